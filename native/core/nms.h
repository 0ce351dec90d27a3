// Greedy non-maximum suppression: candidates in score order (descending, ties by lower index),
// a candidate is dropped when its IoU with a kept box of its group is > the threshold.
#pragma once
#include <cstdint>
#include <vector>

namespace retinanet {

struct NmsParams {
  double iou_threshold = 0.5;   // compared in double with the float32 IoU, as torchvision does
  int64_t max_output = -1;      // < 0: no limit
  bool use_score_threshold = false;
  float score_threshold = 0.0f; // candidates need score > score_threshold
};

// Groups of at most this many candidates use the plain kept-list greedy; larger ones a sweep
// over the kept boxes sorted by x1 (only kept boxes whose x-range can overlap are tested).
constexpr int64_t kNmsSweepMinCandidates = 512;

// One group: `order` holds candidate indices already in score order. Appends the kept indices
// (at most max_keep, < 0 for no limit) to `keep`, in order.
void nms_group(const float* boxes, const int32_t* order, int64_t n, double iou_threshold,
               int64_t max_keep, std::vector<int32_t>& keep);

// Batched NMS (groups == nullptr: one group). Returns kept indices in score order.
std::vector<int32_t> batched_nms_cpu(const float* boxes, const float* scores, const int32_t* groups,
                                     int64_t n, const NmsParams& p);

// Sorts indices by score descending, ties by lower index.
void sort_by_score(const float* scores, int32_t* idx, int64_t n);

}  // namespace retinanet
