// Shared box arithmetic. Every op computes IoU with this one function, in float32 with no
// contraction into FMA (the build sets -ffp-contract=off), as torchvision's box_iou does, so
// values compared for equality (low-quality matches, NMS thresholds) agree across ops.
#pragma once
#include <cstdint>

#include "dispatch.h"

namespace retinanet {

RETINANET_INLINE float box_area(const float* b) { return (b[2] - b[0]) * (b[3] - b[1]); }

// IoU of boxes a and b given their areas; two empty boxes (union 0) have IoU 0.
RETINANET_INLINE float box_iou_pair(const float* a, float area_a, const float* b, float area_b) {
  const float lx = a[0] > b[0] ? a[0] : b[0];
  const float ly = a[1] > b[1] ? a[1] : b[1];
  const float rx = a[2] < b[2] ? a[2] : b[2];
  const float ry = a[3] < b[3] ? a[3] : b[3];
  const float w = rx - lx > 0.0f ? rx - lx : 0.0f;
  const float h = ry - ly > 0.0f ? ry - ly : 0.0f;
  const float inter = w * h;
  const float uni = area_a + area_b - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

}  // namespace retinanet
