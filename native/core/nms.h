// Greedy non-maximum suppression: candidates in score order (descending, ties by lower index),
// a candidate is dropped when its IoU with a kept box of its group is > the threshold.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "status.h"

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

// The float f with (double)v > threshold <=> v > f for every float v: the threshold rounded down
// to a float, so float comparisons (vector lanes, CUDA) agree with torchvision's double one.
inline float nms_float_threshold(double threshold) {
  float f = static_cast<float>(threshold);
  if (static_cast<double>(f) > threshold) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// Batched NMS on the CUDA device (host arrays in, kept indices out; the same keep set and order
// as batched_nms_cpu): candidates sorted by (group, score, index) with CUB, a bitmask kernel over
// pairs within a group, and the greedy sweep on the device, one thread block per group.
Status batched_nms_cuda(const float* boxes, const float* scores, const int32_t* groups, int64_t n,
                        const NmsParams& p, std::vector<int32_t>& keep);

}  // namespace retinanet
