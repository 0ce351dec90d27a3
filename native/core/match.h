// Anchor-to-ground-truth matching with torchvision Matcher semantics, fused: the n x m IoU
// matrix is never stored (one pass for each anchor's best box and each box's best IoU, one for
// thresholds and low-quality matches).
#pragma once
#include <cstdint>

#include "status.h"

namespace retinanet {

constexpr int32_t kBelowLowThreshold = -1;
constexpr int32_t kBetweenThresholds = -2;

struct MatchParams {
  float fg_iou = 0.5f;
  float bg_iou = 0.4f;
  bool allow_low_quality = true;
};

// matches [n]: j >= 0, -1 (IoU < bg_iou), -2 (between); max_iou [n]: each anchor's best IoU.
void match_anchors_cpu(const float* anchors, int64_t n, const float* gt, int64_t m,
                       const MatchParams& p, int32_t* matches, float* max_iou);

// The same on the CUDA device for a batch of images sharing the anchors, with ragged ground truth
// (image b has m[b] boxes at gt[b]): matches and max_iou are [batch, n]. Ground truth is staged
// in shared memory; each box's best IoU is an atomic max on the float bits; a second pass does
// thresholds and low-quality matches. No [n, m] matrix is stored anywhere.
Status match_anchors_cuda(const float* anchors, int64_t n, const float* const* gt, const int64_t* m,
                          int64_t batch, const MatchParams& p, int32_t* matches, float* max_iou);

}  // namespace retinanet
