// generateAnchors on the CUDA device: the cell anchors come from the core's cell_anchors (host,
// the CPU's values); one thread per (location, anchor) adds the shift, as the CPU loop does.
#include <cmath>

#include "../core/anchors.h"
#include "common.cuh"

namespace retinanet {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) shift_kernel(const float* __restrict__ cells, int64_t a,
                                                         int64_t w, int64_t count, float stride_y,
                                                         float stride_x, float offset,
                                                         float* __restrict__ out) {
  // count = height * width * a; item c * a + k is anchor k of cell c.
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < count;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = t / a;
    const int64_t k = t - c * a;
    const float sx = (static_cast<float>(c % w) + offset) * stride_x;
    const float sy = (static_cast<float>(c / w) + offset) * stride_y;
    const float* cell = cells + 4 * k;
    reinterpret_cast<float4*>(out)[t] =
        make_float4(sx + cell[0], sy + cell[1], sx + cell[2], sy + cell[3]);
  }
}

}  // namespace

Status generate_anchors_cuda(const std::vector<AnchorLevelSpec>& levels, const AnchorParams& p,
                             float* out) {
  const int64_t a = static_cast<int64_t>(p.aspect_ratios.size() * p.scales.size());
  int64_t total = 0;
  for (const AnchorLevelSpec& lv : levels) total += lv.height * lv.width * a;
  if (total == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_out;
  RN_TRY(d_out.alloc(call, total * 4));
  std::vector<cuda::Buffer<float>> d_cells(levels.size());
  int64_t start = 0;
  for (size_t l = 0; l < levels.size(); ++l) {
    const AnchorLevelSpec& lv = levels[l];
    const int64_t count = lv.height * lv.width * a;
    if (count == 0) continue;
    const std::vector<float> cells = cell_anchors(lv.size, p);
    RN_TRY(cuda::upload(call, d_cells[l], cells.data(), static_cast<int64_t>(cells.size())));
    shift_kernel<<<cuda::blocks_for(count, kThreads), kThreads, 0, call.stream()>>>(
        d_cells[l].get(), a, lv.width, count, lv.stride_y, lv.stride_x, p.offset,
        d_out.get() + start * 4);
    RN_LAUNCHED("shift_kernel");
    start += count;
  }
  RN_TRY(cuda::download(call, out, d_out.get(), total * 4));
  return call.sync();
}

}  // namespace retinanet
