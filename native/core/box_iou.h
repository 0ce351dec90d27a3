#pragma once
#include <cstdint>

#include "status.h"

namespace retinanet {

// out [na, nb] = IoU of every box of a [na, 4] with every box of b [nb, 4].
void box_iou_cpu(const float* a, int64_t na, const float* b, int64_t nb, float* out);
// The same on the CUDA device (host arrays in and out; same bits as the CPU).
Status box_iou_cuda(const float* a, int64_t na, const float* b, int64_t nb, float* out);

}  // namespace retinanet
