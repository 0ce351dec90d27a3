// IoU matrix on the CUDA device: a block covers 128 columns (boxes of b, one per thread, in
// registers) and walks rows of a staged 16 at a time in shared memory; writes are coalesced along
// a row. IoU by the core's box_iou (compiled without FMA contraction): the CPU's bits.
#include "../core/box_geometry.h"
#include "../core/box_iou.h"
#include "common.cuh"

namespace retinanet {
namespace {

constexpr int kCols = 128;
constexpr int kRows = 16;

__global__ void __launch_bounds__(kCols) iou_kernel(const float* __restrict__ a, int64_t na,
                                                    const float* __restrict__ b, int64_t nb,
                                                    float* __restrict__ out) {
  __shared__ float sa[kRows][5];
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kCols + threadIdx.x;
  float bx1 = 0.0f, by1 = 0.0f, bx2 = 0.0f, by2 = 0.0f, area_b = 0.0f;
  if (j < nb) {
    const float* bj = b + 4 * j;
    bx1 = bj[0];
    by1 = bj[1];
    bx2 = bj[2];
    by2 = bj[3];
    area_b = box_area(bj);
  }
  for (int64_t r0 = static_cast<int64_t>(blockIdx.y) * kRows; r0 < na;
       r0 += static_cast<int64_t>(gridDim.y) * kRows) {
    __syncthreads();
    if (threadIdx.x < kRows && r0 + threadIdx.x < na) {
      const float* ai = a + 4 * (r0 + threadIdx.x);
      sa[threadIdx.x][0] = ai[0];
      sa[threadIdx.x][1] = ai[1];
      sa[threadIdx.x][2] = ai[2];
      sa[threadIdx.x][3] = ai[3];
      sa[threadIdx.x][4] = box_area(ai);
    }
    __syncthreads();
    if (j < nb) {
      const int rows = na - r0 < kRows ? static_cast<int>(na - r0) : kRows;
      for (int r = 0; r < rows; ++r) {
        out[(r0 + r) * nb + j] =
            box_iou(sa[r][0], sa[r][1], sa[r][2], sa[r][3], sa[r][4], bx1, by1, bx2, by2, area_b);
      }
    }
  }
}

}  // namespace

Status box_iou_cuda(const float* a, int64_t na, const float* b, int64_t nb, float* out) {
  if (na == 0 || nb == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_a, d_b, d_out;
  RN_TRY(cuda::upload(call, d_a, a, na * 4));
  RN_TRY(cuda::upload(call, d_b, b, nb * 4));
  RN_TRY(d_out.alloc(call, na * nb));
  const dim3 grid(cuda::blocks_for(nb, kCols, INT32_MAX), cuda::blocks_for(na, kRows, 65535));
  iou_kernel<<<grid, kCols, 0, call.stream()>>>(d_a.get(), na, d_b.get(), nb, d_out.get());
  RN_LAUNCHED("iou_kernel");
  RN_TRY(cuda::download(call, out, d_out.get(), na * nb));
  return call.sync();
}

}  // namespace retinanet
