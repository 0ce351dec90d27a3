#include "../core/anchors.h"

#include <cmath>

#include "../runtime/thread_pool.h"

namespace retinanet {

std::vector<float> cell_anchors(float size, const AnchorParams& p) {
  // float32 throughout, as torchvision computes them (torch's default dtype).
  std::vector<float> out;
  out.reserve(p.aspect_ratios.size() * p.scales.size() * 4);
  for (float ratio : p.aspect_ratios) {
    const float h_ratio = std::sqrt(ratio);
    const float w_ratio = 1.0f / h_ratio;
    for (float scale : p.scales) {
      // torchvision's RetinaNet builds its sizes as int(size * 2^(k/3)): truncated.
      const float s = p.torchvision_rounding
                          ? static_cast<float>(std::trunc(static_cast<double>(size) * scale))
                          : size * scale;
      const float ws = w_ratio * s;
      const float hs = h_ratio * s;
      float box[4] = {-ws / 2.0f, -hs / 2.0f, ws / 2.0f, hs / 2.0f};
      for (float v : box) out.push_back(p.torchvision_rounding ? std::nearbyint(v) : v);
    }
  }
  return out;
}

void generate_anchors_cpu(const std::vector<AnchorLevelSpec>& levels, const AnchorParams& p,
                          float* out) {
  const int64_t a = static_cast<int64_t>(p.aspect_ratios.size() * p.scales.size());
  for (const AnchorLevelSpec& lv : levels) {
    const std::vector<float> cells = cell_anchors(lv.size, p);
    const int64_t w = lv.width;
    parallel_for(lv.height * w, 4096, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const float sx = (static_cast<float>(c % w) + p.offset) * lv.stride_x;
        const float sy = (static_cast<float>(c / w) + p.offset) * lv.stride_y;
        float* o = out + c * a * 4;
        for (int64_t k = 0; k < a; ++k) {
          o[4 * k + 0] = sx + cells[4 * k + 0];
          o[4 * k + 1] = sy + cells[4 * k + 1];
          o[4 * k + 2] = sx + cells[4 * k + 2];
          o[4 * k + 3] = sy + cells[4 * k + 3];
        }
      }
    });
    out += lv.height * w * a * 4;
  }
}

}  // namespace retinanet
