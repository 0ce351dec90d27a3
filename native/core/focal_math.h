// The focal loss's arithmetic per logit (FL, paper eq. 5, with its gamma fast paths, and FL*,
// appendix eq. 6-8), compiled for host and device: native/cpu/focal_loss.cpp runs it inside a
// vectorized row loop, native/cuda/focal_loss.cu inside its kernel. Each passes its own exp and
// reciprocal (Math::exp, Math::recip); both reciprocals are correctly rounded, so the two give the
// same bits wherever their exp does.
#pragma once
#include "../runtime/dispatch.h"
#include "focal_loss.h"
#include "vmath.h"

namespace retinanet {

// Which formula: FL with gamma 0 (alpha-balanced CE), 1, 2 (the paper's), any other gamma; FL*.
enum FocalMode { kFocalGamma0, kFocalGamma1, kFocalGamma2, kFocalGammaAny, kFocalStarMode };

struct FocalArgs {
  float a_pos, a_neg;  // alpha_t for the target class and for the others
  float gamma, beta;
  float gscale;        // 1 / normalizer
  float inv_gamma;     // FL*: 1 / gamma
};

// The formula and the per-logit constants of a call (host side, once per call).
inline FocalMode focal_mode(const FocalLossParams& p) {
  if (p.kind == FocalKind::kFocalStar) return kFocalStarMode;
  if (p.gamma == 0.0f) return kFocalGamma0;
  if (p.gamma == 1.0f) return kFocalGamma1;
  if (p.gamma == 2.0f) return kFocalGamma2;
  return kFocalGammaAny;
}

inline FocalArgs focal_args(const FocalLossParams& p) {
  return FocalArgs{p.use_alpha ? p.alpha : 1.0f,
                   p.use_alpha ? 1.0f - p.alpha : 1.0f,
                   p.gamma,
                   p.beta,
                   static_cast<float>(1.0 / p.normalizer),
                   p.kind == FocalKind::kFocalStar ? 1.0f / p.gamma : 0.0f};
}

// One logit x of an anchor's row (t: x is the target class's): returns its loss term and, when
// Grad, writes d loss / dx into g.
// FL's stable form: with e = exp(-|x|), log p_t = min(x_t, 0) - log1p(e) and
// log(1 - p_t) = min(-x_t, 0) - log1p(e): no log(0), no overflow for any finite x.
// FL*: alpha_t * -log sigma(z) / gamma with z = gamma x_t + beta; gradient
// alpha_t y (p*_t - 1) = -alpha_t y sigma(-z) (eq. 11).
template <int M, bool Grad, class Math>
RETINANET_HD RETINANET_INLINE float focal_element(float xv, bool t, const FocalArgs& a, float& g) {
  const float xt = t ? xv : -xv;
  const float at = t ? a.a_pos : a.a_neg;
  const float y = t ? 1.0f : -1.0f;
  if (M == kFocalStarMode) {
    const float z = a.gamma * xt + a.beta;
    const float e = Math::exp(-(z < 0.0f ? -z : z));
    const float inv = Math::recip(1.0f + e);
    const float softplus_neg_z = (z < 0.0f ? -z : 0.0f) + vmath::log1p_unit(e);
    const float s = z >= 0.0f ? e * inv : inv;  // sigma(-z)
    if (Grad) g = a.gscale * (-at * y * s);
    return at * softplus_neg_z * a.inv_gamma;
  }
  const float e = Math::exp(-(xv < 0.0f ? -xv : xv));
  const float inv = Math::recip(1.0f + e);
  const float l1p = vmath::log1p_unit(e);
  const float logpt = (xt < 0.0f ? xt : 0.0f) - l1p;
  const float pt = xt >= 0.0f ? inv : e * inv;
  const float q = xt >= 0.0f ? e * inv : inv;  // 1 - p_t without cancellation
  float mod;
  if (M == kFocalGamma0) {
    mod = 1.0f;
  } else if (M == kFocalGamma1) {
    mod = q;
  } else if (M == kFocalGamma2) {
    mod = q * q;
  } else {
    const float logq = (xt > 0.0f ? -xt : 0.0f) - l1p;
    mod = Math::exp(a.gamma * logq);
  }
  if (Grad) g = a.gscale * (at * y * mod * (a.gamma * pt * logpt - q));
  return at * mod * -logpt;
}

}  // namespace retinanet
