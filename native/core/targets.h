// RetinaNet training targets: match, then per-anchor class labels and encoded box targets.
#pragma once
#include <cstdint>

#include "box_coding.h"
#include "match.h"

namespace retinanet {

// labels [n]: gt_labels[match] for foreground, -1 background, -2 ignored.
// box_targets [n, 4]: encoded matched box for foreground anchors, 0 elsewhere.
// matches [n], max_iou scratch [n]. Returns the number of foreground anchors.
int64_t retinanet_targets_cpu(const float* anchors, int64_t n, const float* gt,
                              const int32_t* gt_labels, int64_t m, const MatchParams& mp,
                              const BoxCoderWeights& w, int32_t* labels, float* box_targets,
                              int32_t* matches, float* max_iou);

// The same on the CUDA device for a batch of images sharing the anchors (ragged ground truth as
// match_anchors_cuda): labels, matches [batch, n], box_targets [batch, n, 4], num_foreground [batch].
Status retinanet_targets_cuda(const float* anchors, int64_t n, const float* const* gt,
                              const int32_t* const* gt_labels, const int64_t* m, int64_t batch,
                              const MatchParams& mp, const BoxCoderWeights& w, int32_t* labels,
                              float* box_targets, int32_t* matches, int64_t* num_foreground);

}  // namespace retinanet
