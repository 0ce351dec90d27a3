// Greedy batched NMS on device data, shared by batchedNms (nms.cu) and postprocess.
#pragma once
#include "common.cuh"

namespace retinanet {
namespace cuda {

struct NmsDeviceInputs {
  const float* boxes;     // [n, 4]
  const float* scores;    // [n]
  const int32_t* groups;  // [n] or null (one group)
  int64_t n;
  float iou_threshold;    // suppress when IoU > this (nms_float_threshold of the double threshold)
  bool use_score_threshold;
  float score_threshold;  // candidates need score > this
  int64_t max_per_group;  // < 0: no limit
};

// Writes keep[i] = 1 for every kept candidate, 0 otherwise ([n] device bytes). Candidates are
// sorted by (group, score descending, index) with one stable CUB radix sort; a bitmask kernel
// marks, for each candidate, the later candidates of its group it suppresses (IoU > threshold),
// stored per 64-row block only over the columns its groups span; the greedy sweep runs on the
// device, one thread block per group. The keep set is the CPU's: the same IoU bits, the same order.
Status nms_on_device(const Call& call, const NmsDeviceInputs& in, uint8_t* keep);

}  // namespace cuda
}  // namespace retinanet
