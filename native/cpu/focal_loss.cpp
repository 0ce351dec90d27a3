#include "../core/focal_loss.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../runtime/dispatch.h"
#include "../core/focal_math.h"
#include "../runtime/thread_pool.h"
#include "../core/vmath.h"

namespace retinanet {
namespace {

// The CPU's exp (vectorizable, no libm call) and reciprocal for focal_element.
struct CpuMath {
  static RETINANET_INLINE float exp(float x) { return vmath::exp(x); }
  static RETINANET_INLINE float recip(float x) { return 1.0f / x; }
};

// One anchor row: the loss terms summed into `sum`, d loss / dx into g (if Grad).
template <int M, bool Grad>
RETINANET_INLINE void focal_row(const float* x, float* g, int32_t k, int32_t label, const FocalArgs& a,
                                float& sum_out, int& bad_out) {
  float sum = 0.0f;
  int bad = 0;
#pragma omp simd reduction(+ : sum, bad)
  for (int32_t j = 0; j < k; ++j) {
    const float xv = x[j];
    bad += !(xv - xv == 0.0f);  // NaN or +-Inf
    float gj;
    sum += focal_element<M, Grad, CpuMath>(xv, j == label, a, gj);
    if (Grad) g[j] = gj;
  }
  sum_out = sum;
  bad_out = bad;
}

template <typename Row>
RETINANET_INLINE void rows_loop(const float* logits, const int32_t* labels, int64_t r0, int64_t r1, int64_t k,
                      float* grad, Row row, double* sum_out, int64_t* bad_row) {
  double acc = 0.0;
  *bad_row = -1;
  for (int64_t r = r0; r < r1; ++r) {
    const int32_t label = labels[r];
    float* g = grad ? grad + r * k : nullptr;
    if (label == -2) {  // ignored anchor: no loss, zero gradient
      if (g) std::fill(g, g + k, 0.0f);
      continue;
    }
    float s;
    int bad;
    row(logits + r * k, g, label, s, bad);
    if (bad && *bad_row < 0) *bad_row = r;
    acc += static_cast<double>(s);
  }
  *sum_out = acc;
}

// One chunk of rows; M selects the formula (focal_math.h), Grad whether to write gradients.
template <int M, bool Grad>
RETINANET_DISPATCH void loss_chunk(const float* logits, const int32_t* labels, int64_t r0, int64_t r1,
                                   int64_t k, const FocalArgs& a, float* grad, double* sum,
                                   int64_t* bad_row) {
  const int32_t k32 = static_cast<int32_t>(k);
  rows_loop(logits, labels, r0, r1, k, grad,
            [&](const float* x, float* g, int32_t l, float& s, int& b) { focal_row<M, Grad>(x, g, k32, l, a, s, b); },
            sum, bad_row);
}

using ChunkFn = void (*)(const float*, const int32_t*, int64_t, int64_t, int64_t, const FocalArgs&,
                         float*, double*, int64_t*);

template <bool Grad>
ChunkFn pick(FocalMode mode) {
  switch (mode) {
    case kFocalGamma0: return loss_chunk<kFocalGamma0, Grad>;
    case kFocalGamma1: return loss_chunk<kFocalGamma1, Grad>;
    case kFocalGamma2: return loss_chunk<kFocalGamma2, Grad>;
    case kFocalGammaAny: return loss_chunk<kFocalGammaAny, Grad>;
    default: return loss_chunk<kFocalStarMode, Grad>;
  }
}

}  // namespace

Status focal_loss_cpu(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                      const FocalLossParams& params, double* loss, float* grad) {
  *loss = 0.0;
  if (n == 0 || k == 0) return Status::ok();
  const FocalArgs args = focal_args(params);
  // About 32k logits per chunk: large enough to amortize scheduling, small enough to balance.
  const int64_t grain = std::max<int64_t>(1, 32768 / k);
  const int64_t chunks = num_chunks(n, grain);
  std::vector<double> sums(static_cast<size_t>(chunks));
  std::vector<int64_t> bad(static_cast<size_t>(chunks));
  const FocalMode mode = focal_mode(params);
  const ChunkFn fn = grad ? pick<true>(mode) : pick<false>(mode);
  parallel_for(n, grain, [&](int64_t r0, int64_t r1) {
    const int64_t c = r0 / grain;
    fn(logits, labels, r0, r1, k, args, grad, &sums[c], &bad[c]);
  });
  double total = 0.0;
  for (int64_t c = 0; c < chunks; ++c) {
    if (bad[c] >= 0) {
      return Status::range_error("logits: row " + std::to_string(bad[c]) +
                                 " holds a non-finite value (NaN or Infinity)");
    }
    total += sums[c];
  }
  *loss = total / params.normalizer;
  return Status::ok();
}

}  // namespace retinanet
