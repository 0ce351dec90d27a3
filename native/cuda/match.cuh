// Anchor matching on device data, shared by matchAnchors (match.cu) and retinanetTargets
// (targets.cu).
#pragma once
#include "../core/box_coding.h"
#include "../core/match.h"
#include "common.cuh"

namespace retinanet {
namespace cuda {

// Device arrays. Ground truth of all images concatenated: image b owns boxes [gt_off[b], gt_off[b+1]).
struct MatchInputs {
  const float* anchors;   // [n, 4]
  int64_t n;
  const float* gt;        // [total_gt, 4]
  const int32_t* gt_off;  // [batch + 1]
  int64_t batch;
  int64_t total_gt;
};

// When given, the second pass also writes the training targets.
struct TargetOutputs {
  const int32_t* gt_labels;   // [total_gt]
  BoxCoderWeights weights;
  int32_t* labels;            // [batch, n]
  float* box_targets;         // [batch, n, 4]
  unsigned long long* fg;     // [batch], zeroed by the caller
};

// Two launches over all images: (1) each anchor's best box (ties to the lower index) and each box's
// best IoU (warp max, then shared and global atomicMax on the float bits); (2) thresholds and
// low-quality matches (anchors tied at a box's best IoU), plus the targets when asked.
Status match_on_device(const Call& call, const MatchInputs& in, const MatchParams& p, int32_t* matches,
                       float* max_iou, const TargetOutputs* targets);

// Uploads ragged ground truth (and labels, when given) as concatenated arrays with offsets.
Status upload_ground_truth(const Call& call, const float* const* gt, const int32_t* const* gt_labels,
                           const int64_t* m, int64_t batch, Buffer<float>& d_gt,
                           Buffer<int32_t>& d_labels, Buffer<int32_t>& d_off, int64_t* total_gt);

}  // namespace cuda
}  // namespace retinanet
