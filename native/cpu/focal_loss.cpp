#include "../core/focal_loss.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../core/dispatch.h"
#include "../core/thread_pool.h"
#include "../core/vmath.h"

namespace retinanet {
namespace {

// Gamma fast paths: 0 (alpha-balanced CE), 1, 2 (the paper's), any other value.
enum GammaMode { kGamma0, kGamma1, kGamma2, kGammaAny };

struct RowArgs {
  float a_pos, a_neg;  // alpha_t for the target class and for the others
  float gamma, beta;
  float gscale;        // 1 / normalizer
};

// One anchor row of FL: the loss terms summed into `sum`, d loss / dx into g (if Grad).
// Stable form: with e = exp(-|x|), log p_t = min(x_t, 0) - log1p(e) and
// log(1 - p_t) = min(-x_t, 0) - log1p(e): no log(0), no overflow for any finite x.
template <GammaMode G, bool Grad>
RETINANET_INLINE void focal_row(const float* x, float* g, int32_t k, int32_t label, const RowArgs& a,
                      float& sum_out, int& bad_out) {
  float sum = 0.0f;
  int bad = 0;
#pragma omp simd reduction(+ : sum, bad)
  for (int32_t j = 0; j < k; ++j) {
    const float xv = x[j];
    bad += !(xv - xv == 0.0f);  // NaN or +-Inf
    const bool t = j == label;
    const float xt = t ? xv : -xv;
    const float ax = xv < 0.0f ? -xv : xv;
    const float e = vmath::exp(-ax);
    const float inv = 1.0f / (1.0f + e);
    const float l1p = vmath::log1p_unit(e);
    const float logpt = (xt < 0.0f ? xt : 0.0f) - l1p;
    const float pt = xt >= 0.0f ? inv : e * inv;
    const float q = xt >= 0.0f ? e * inv : inv;  // 1 - p_t without cancellation
    float mod;
    if (G == kGamma0) {
      mod = 1.0f;
    } else if (G == kGamma1) {
      mod = q;
    } else if (G == kGamma2) {
      mod = q * q;
    } else {
      const float logq = (xt > 0.0f ? -xt : 0.0f) - l1p;
      mod = vmath::exp(a.gamma * logq);
    }
    const float at = t ? a.a_pos : a.a_neg;
    sum += at * mod * -logpt;
    if (Grad) {
      const float y = t ? 1.0f : -1.0f;
      g[j] = a.gscale * (at * y * mod * (a.gamma * pt * logpt - q));
    }
  }
  sum_out = sum;
  bad_out = bad;
}

// One anchor row of FL*: alpha_t * -log sigma(z) / gamma with z = gamma x_t + beta; gradient
// alpha_t y (p*_t - 1) = -alpha_t y sigma(-z) (eq. 11).
template <bool Grad>
RETINANET_INLINE void focal_star_row(const float* x, float* g, int32_t k, int32_t label, const RowArgs& a,
                           float& sum_out, int& bad_out) {
  float sum = 0.0f;
  int bad = 0;
  const float inv_gamma = 1.0f / a.gamma;
#pragma omp simd reduction(+ : sum, bad)
  for (int32_t j = 0; j < k; ++j) {
    const float xv = x[j];
    bad += !(xv - xv == 0.0f);
    const bool t = j == label;
    const float xt = t ? xv : -xv;
    const float z = a.gamma * xt + a.beta;
    const float az = z < 0.0f ? -z : z;
    const float e = vmath::exp(-az);
    const float inv = 1.0f / (1.0f + e);
    const float softplus_neg_z = (z < 0.0f ? -z : 0.0f) + vmath::log1p_unit(e);
    const float s = z >= 0.0f ? e * inv : inv;  // sigma(-z)
    const float at = t ? a.a_pos : a.a_neg;
    sum += at * softplus_neg_z * inv_gamma;
    if (Grad) {
      const float y = t ? 1.0f : -1.0f;
      g[j] = a.gscale * (-at * y * s);
    }
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

// One chunk of rows; Star selects FL*, G the FL gamma path, Grad whether to write gradients.
template <bool Star, GammaMode G, bool Grad>
RETINANET_DISPATCH void loss_chunk(const float* logits, const int32_t* labels, int64_t r0, int64_t r1,
                                   int64_t k, const RowArgs& a, float* grad, double* sum,
                                   int64_t* bad_row) {
  const int32_t k32 = static_cast<int32_t>(k);
  rows_loop(logits, labels, r0, r1, k, grad,
            [&](const float* x, float* g, int32_t l, float& s, int& b) {
              if (Star) {
                focal_star_row<Grad>(x, g, k32, l, a, s, b);
              } else {
                focal_row<G, Grad>(x, g, k32, l, a, s, b);
              }
            },
            sum, bad_row);
}

using ChunkFn = void (*)(const float*, const int32_t*, int64_t, int64_t, int64_t, const RowArgs&,
                         float*, double*, int64_t*);

template <bool Grad>
ChunkFn pick(const FocalLossParams& p) {
  if (p.kind == FocalKind::kFocalStar) return loss_chunk<true, kGammaAny, Grad>;
  if (p.gamma == 0.0f) return loss_chunk<false, kGamma0, Grad>;
  if (p.gamma == 1.0f) return loss_chunk<false, kGamma1, Grad>;
  if (p.gamma == 2.0f) return loss_chunk<false, kGamma2, Grad>;
  return loss_chunk<false, kGammaAny, Grad>;
}

}  // namespace

Status focal_loss_cpu(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                      const FocalLossParams& params, double* loss, float* grad) {
  *loss = 0.0;
  if (n == 0 || k == 0) return Status::ok();
  const RowArgs args{params.use_alpha ? params.alpha : 1.0f,
                     params.use_alpha ? 1.0f - params.alpha : 1.0f, params.gamma, params.beta,
                     static_cast<float>(1.0 / params.normalizer)};
  // About 32k logits per chunk: large enough to amortize scheduling, small enough to balance.
  const int64_t grain = std::max<int64_t>(1, 32768 / k);
  const int64_t chunks = num_chunks(n, grain);
  std::vector<double> sums(static_cast<size_t>(chunks));
  std::vector<int64_t> bad(static_cast<size_t>(chunks));
  const ChunkFn fn = grad ? pick<true>(params) : pick<false>(params);
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
