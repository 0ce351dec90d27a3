#include "../core/box_iou.h"

#include <vector>

#include "../core/box_geometry.h"
#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

RETINANET_DISPATCH void iou_rows(const float* a, int64_t i0, int64_t i1, const float* b, int64_t nb,
                                 const float* area_b, float* out) {
  for (int64_t i = i0; i < i1; ++i) {
    const float* ai = a + 4 * i;
    const float area_a = box_area(ai);
    float* row = out + i * nb;
#pragma omp simd
    for (int64_t j = 0; j < nb; ++j) row[j] = box_iou_pair(ai, area_a, b + 4 * j, area_b[j]);
  }
}

}  // namespace

void box_iou_cpu(const float* a, int64_t na, const float* b, int64_t nb, float* out) {
  if (na == 0 || nb == 0) return;
  std::vector<float> area_b(static_cast<size_t>(nb));
  for (int64_t j = 0; j < nb; ++j) area_b[j] = box_area(b + 4 * j);
  const int64_t grain = nb >= 4096 ? 1 : 4096 / nb;
  parallel_for(na, grain, [&](int64_t i0, int64_t i1) { iou_rows(a, i0, i1, b, nb, area_b.data(), out); });
}

}  // namespace retinanet
