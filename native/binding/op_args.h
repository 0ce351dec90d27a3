// Arguments more than one binding reads, converted in one place: box-coder weights (box coding,
// targets, post-processing) and matching thresholds (matching, targets).
#pragma once
#include <napi.h>

#include <cstddef>

#include "../core/box_coding.h"
#include "../core/match.h"

namespace retinanet {
namespace binding {

// A Float32Array of 4 weights at argument i (native/binding/box_coding.cpp).
BoxCoderWeights weights_arg(const Napi::CallbackInfo& info, size_t i);

// fgIou, bgIou, allowLowQuality at arguments i, i + 1, i + 2 (native/binding/match.cpp).
MatchParams match_params_arg(const Napi::CallbackInfo& info, size_t i);

}  // namespace binding
}  // namespace retinanet
