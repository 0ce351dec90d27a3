// Sigmoid focal loss and FL* on the CUDA device: one fused pass over logits and sparse labels
// writes the gradient and per-block partial sums of the loss (double), a second single-block
// launch adds the partials in a fixed order. The grid depends only on the problem size, so the
// loss has the same bits on every run (and on every GPU).
#include <climits>
#include <string>

#include "../core/focal_loss.h"
#include "../core/focal_math.h"
#include "common.cuh"

namespace retinanet {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 1024;  // fixed: a function of the size only, never of the device
constexpr int kUnitsPerThread = 4;

// The device's exp and reciprocal for focal_element (native/core/focal_math.h).
struct DeviceMath {
  static __device__ __forceinline__ float exp(float x) { return expf(x); }
  static __device__ __forceinline__ float recip(float x) { return __frcp_rn(x); }
};

// One logit: its loss term, d loss / dx into g (when Grad); flags a non-finite x.
template <int M, bool Grad>
__device__ __forceinline__ float element(float xv, bool t, const FocalArgs& a, float& g, bool& bad) {
  bad |= !(xv - xv == 0.0f);  // NaN or +-Inf
  return focal_element<M, Grad, DeviceMath>(xv, t, a, g);
}

// Vec4 (k % 4 == 0): each thread step reads one float4 of one row and writes one float4 of the
// gradient. Otherwise one element per step. Rows labelled -2 (ignored) add nothing and get a zero
// gradient; their logits are not read.
template <int M, bool Grad, bool Vec4>
__global__ void __launch_bounds__(kThreads)
focal_kernel(const float* __restrict__ x, const int32_t* __restrict__ labels, uint32_t units,
             uint32_t units_per_row, FocalArgs a, float* __restrict__ grad, double* __restrict__ partial,
             unsigned long long* __restrict__ bad_row) {
  double acc = 0.0;
  unsigned long long bad_first = ULLONG_MAX;
  const uint32_t stride = gridDim.x * blockDim.x;
  for (uint32_t u = blockIdx.x * blockDim.x + threadIdx.x; u < units; u += stride) {
    const uint32_t row = u / units_per_row;
    const int32_t label = __ldg(labels + row);
    if (Vec4) {
      if (label == -2) {
        if (Grad) reinterpret_cast<float4*>(grad)[u] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        continue;
      }
      const int32_t col = static_cast<int32_t>(u - row * units_per_row) * 4;
      const float4 v = __ldg(reinterpret_cast<const float4*>(x) + u);
      float4 g;
      bool bad = false;
      float s = element<M, Grad>(v.x, col == label, a, g.x, bad);
      s += element<M, Grad>(v.y, col + 1 == label, a, g.y, bad);
      s += element<M, Grad>(v.z, col + 2 == label, a, g.z, bad);
      s += element<M, Grad>(v.w, col + 3 == label, a, g.w, bad);
      if (Grad) reinterpret_cast<float4*>(grad)[u] = g;
      if (bad && row < bad_first) bad_first = row;
      acc += static_cast<double>(s);
    } else {
      if (label == -2) {
        if (Grad) grad[u] = 0.0f;
        continue;
      }
      const int32_t col = static_cast<int32_t>(u - row * units_per_row);
      float g;
      bool bad = false;
      const float s = element<M, Grad>(__ldg(x + u), col == label, a, g, bad);
      if (Grad) grad[u] = g;
      if (bad && row < bad_first) bad_first = row;
      acc += static_cast<double>(s);
    }
  }
  // Block sum in a fixed tree order.
  __shared__ double sh[kThreads];
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
  if (bad_first != ULLONG_MAX) atomicMin(bad_row, bad_first);  // the lowest bad row, as the CPU
}

// One block adds the partials: each thread a fixed strided subset in order, then a fixed tree.
__global__ void __launch_bounds__(kThreads) sum_partials(const double* __restrict__ partial, int count,
                                                        double* __restrict__ out) {
  __shared__ double sh[kThreads];
  double acc = 0.0;
  for (int i = threadIdx.x; i < count; i += kThreads) acc += partial[i];
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = sh[0];
}

template <int M, bool Grad>
void launch_mode(bool vec4, unsigned int blocks, cudaStream_t s, const float* x, const int32_t* l,
                 uint32_t units, uint32_t per_row, const FocalArgs& a, float* g, double* part,
                 unsigned long long* bad) {
  if (vec4) {
    focal_kernel<M, Grad, true><<<blocks, kThreads, 0, s>>>(x, l, units, per_row, a, g, part, bad);
  } else {
    focal_kernel<M, Grad, false><<<blocks, kThreads, 0, s>>>(x, l, units, per_row, a, g, part, bad);
  }
}

template <bool Grad>
void launch(FocalMode mode, bool vec4, unsigned int blocks, cudaStream_t s, const float* x, const int32_t* l,
            uint32_t units, uint32_t per_row, const FocalArgs& a, float* g, double* part,
            unsigned long long* bad) {
  switch (mode) {
    case kFocalGamma0: launch_mode<kFocalGamma0, Grad>(vec4, blocks, s, x, l, units, per_row, a, g, part, bad); break;
    case kFocalGamma1: launch_mode<kFocalGamma1, Grad>(vec4, blocks, s, x, l, units, per_row, a, g, part, bad); break;
    case kFocalGamma2: launch_mode<kFocalGamma2, Grad>(vec4, blocks, s, x, l, units, per_row, a, g, part, bad); break;
    case kFocalGammaAny: launch_mode<kFocalGammaAny, Grad>(vec4, blocks, s, x, l, units, per_row, a, g, part, bad); break;
    default: launch_mode<kFocalStarMode, Grad>(vec4, blocks, s, x, l, units, per_row, a, g, part, bad); break;
  }
}

}  // namespace

Status focal_loss_cuda(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                       const FocalLossParams& params, double* loss, float* grad) {
  *loss = 0.0;
  if (n == 0 || k == 0) return Status::ok();
  const int64_t total = n * k;
  if (total > INT32_MAX) {
    return Status::range_error("logits: " + std::to_string(total) +
                               " elements; the CUDA kernel takes at most 2^31 - 1");
  }
  const FocalArgs args = focal_args(params);
  const FocalMode mode = focal_mode(params);
  const bool vec4 = k % 4 == 0;
  const uint32_t units = static_cast<uint32_t>(vec4 ? total / 4 : total);
  const uint32_t per_row = static_cast<uint32_t>(vec4 ? k / 4 : k);
  const unsigned int blocks = cuda::blocks_for(units, kThreads * kUnitsPerThread, kMaxBlocks);

  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_x, d_grad;
  cuda::Buffer<int32_t> d_labels;
  cuda::Buffer<double> d_partial, d_sum;
  cuda::Buffer<unsigned long long> d_bad;
  RN_TRY(cuda::upload(call, d_x, logits, total));
  RN_TRY(cuda::upload(call, d_labels, labels, n));
  if (grad != nullptr) RN_TRY(d_grad.alloc(call, total));
  RN_TRY(d_partial.alloc(call, blocks));
  RN_TRY(d_sum.alloc(call, 1));
  RN_TRY(d_bad.alloc(call, 1));
  RN_CUDA(cudaMemsetAsync(d_bad.get(), 0xff, sizeof(unsigned long long), call.stream()));
  if (grad != nullptr) {
    launch<true>(mode, vec4, blocks, call.stream(), d_x.get(), d_labels.get(), units, per_row, args,
                 d_grad.get(), d_partial.get(), d_bad.get());
  } else {
    launch<false>(mode, vec4, blocks, call.stream(), d_x.get(), d_labels.get(), units, per_row, args,
                  nullptr, d_partial.get(), d_bad.get());
  }
  RN_LAUNCHED("focal_kernel");
  sum_partials<<<1, kThreads, 0, call.stream()>>>(d_partial.get(), static_cast<int>(blocks), d_sum.get());
  RN_LAUNCHED("sum_partials");
  double sum = 0.0;
  unsigned long long bad = 0;
  RN_TRY(cuda::download(call, &sum, d_sum.get(), 1));
  RN_TRY(cuda::download(call, &bad, d_bad.get(), 1));
  RN_TRY(call.sync());
  if (bad != ULLONG_MAX) {
    return Status::range_error("logits: row " + std::to_string(bad) +
                               " holds a non-finite value (NaN or Infinity)");
  }
  if (grad != nullptr) {
    RN_TRY(cuda::download(call, grad, d_grad.get(), total));
    RN_TRY(call.sync());
  }
  *loss = sum / params.normalizer;
  return Status::ok();
}

}  // namespace retinanet
