// Arguments more than one binding reads, converted in one place: box-coder weights (box coding,
// targets, post-processing) and matching thresholds (matching, targets).
#pragma once
#include <napi.h>

#include <cstddef>

#include "../core/box_coding.h"
#include "../core/match.h"
#include "convert.h"

namespace retinanet {
namespace binding {

// `weights`: a Float32Array of 4 (native/binding/box_coding.cpp).
BoxCoderWeights weights_param(const Params& p);

// `fgIou`, `bgIou`, `allowLowQuality` (native/binding/match.cpp).
MatchParams match_params(const Params& p);

}  // namespace binding
}  // namespace retinanet
