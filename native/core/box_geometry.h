// Shared box arithmetic. Every op computes IoU with this one function, in float32 with no
// contraction into FMA (the build sets -ffp-contract=off, and --fmad=false for the CUDA files
// that include this), as torchvision's box_iou does, so values compared for equality
// (low-quality matches, NMS thresholds) agree across ops and between CPU and CUDA.
#pragma once
#include <cstdint>

#include "../runtime/dispatch.h"

namespace retinanet {

RETINANET_INLINE RETINANET_HD float box_area(const float* b) { return (b[2] - b[0]) * (b[3] - b[1]); }

// IoU of boxes a and b given their areas; two empty boxes (union 0) have IoU 0. Scalars, so
// callers can feed it from structure-of-arrays storage inside vectorized loops.
RETINANET_INLINE RETINANET_HD float box_iou(float ax1, float ay1, float ax2, float ay2, float area_a, float bx1,
                               float by1, float bx2, float by2, float area_b) {
  const float lx = ax1 > bx1 ? ax1 : bx1;
  const float ly = ay1 > by1 ? ay1 : by1;
  const float rx = ax2 < bx2 ? ax2 : bx2;
  const float ry = ay2 < by2 ? ay2 : by2;
  const float w = rx - lx > 0.0f ? rx - lx : 0.0f;
  const float h = ry - ly > 0.0f ? ry - ly : 0.0f;
  const float inter = w * h;
  const float uni = area_a + area_b - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

RETINANET_INLINE RETINANET_HD float box_iou_pair(const float* a, float area_a, const float* b, float area_b) {
  return box_iou(a[0], a[1], a[2], a[3], area_a, b[0], b[1], b[2], b[3], area_b);
}

}  // namespace retinanet
