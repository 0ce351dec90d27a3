#include "group_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Pixels per chunk: fixed by the channel count alone (never by the thread count), at least 64
// pixels and about 64K values, so the per-chunk partial sums stay small next to the data.
int64_t pixel_grain(int64_t channels) {
  return std::max<int64_t>(64, 65536 / std::max<int64_t>(channels, 1));
}

// s1[j] = Σ_p x[p, j], s2[j] = Σ_p x[p, j]², in double, pixel by pixel (vectorized over channels).
RETINANET_DISPATCH void moment_sums(const float* __restrict x, int64_t pixels, int64_t c, double* __restrict s1,
                                    double* __restrict s2) {
  for (int64_t j = 0; j < c; ++j) s1[j] = s2[j] = 0.0;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict row = x + p * c;
    for (int64_t j = 0; j < c; ++j) {
      const double v = row[j];
      s1[j] += v;
      s2[j] += v * v;
    }
  }
}

// y = (x − mu)·scale + shift, per channel.
RETINANET_DISPATCH void normalize_rows(const float* __restrict x, int64_t pixels, int64_t c, const float* __restrict mu,
                                       const float* __restrict scale, const float* __restrict shift,
                                       float* __restrict y) {
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict xr = x + p * c;
    float* __restrict yr = y + p * c;
    for (int64_t j = 0; j < c; ++j) yr[j] = (xr[j] - mu[j]) * scale[j] + shift[j];
  }
}

// s1[j] = Σ_p dy, s2[j] = Σ_p dy·(x − mu), in double.
RETINANET_DISPATCH void backward_sums(const float* __restrict dy, const float* __restrict x, int64_t pixels, int64_t c,
                                      const float* __restrict mu, double* __restrict s1, double* __restrict s2) {
  for (int64_t j = 0; j < c; ++j) s1[j] = s2[j] = 0.0;
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict dr = dy + p * c;
    const float* __restrict xr = x + p * c;
    for (int64_t j = 0; j < c; ++j) {
      const double d = dr[j];
      s1[j] += d;
      s2[j] += d * static_cast<double>(xr[j] - mu[j]);
    }
  }
}

// dx = dy·k1 + (x − mu)·k2 + k3, per channel.
RETINANET_DISPATCH void backward_dx(const float* __restrict dy, const float* __restrict x, int64_t pixels, int64_t c,
                                    const float* __restrict mu, const float* __restrict k1, const float* __restrict k2,
                                    const float* __restrict k3, float* __restrict dx) {
  for (int64_t p = 0; p < pixels; ++p) {
    const float* __restrict dr = dy + p * c;
    const float* __restrict xr = x + p * c;
    float* __restrict out = dx + p * c;
    for (int64_t j = 0; j < c; ++j) out[j] = dr[j] * k1[j] + (xr[j] - mu[j]) * k2[j] + k3[j];
  }
}

// The chunking both passes share: chunk k of image b covers pixels [k·grain, min((k+1)·grain, P)).
struct Chunks {
  int64_t grain, per_image, total;
  Chunks(const GroupNormShape& s)
      : grain(pixel_grain(s.channels)), per_image(num_chunks(s.spatial, grain)), total(s.batch * per_image) {}
  int64_t image(int64_t i) const { return i / per_image; }
  int64_t first_pixel(int64_t i) const { return (i % per_image) * grain; }
  int64_t pixels(const GroupNormShape& s, int64_t i) const { return std::min(grain, s.spatial - first_pixel(i)); }
  // Offset of the chunk's first value in an NHWC tensor.
  int64_t offset(const GroupNormShape& s, int64_t i) const {
    return (image(i) * s.spatial + first_pixel(i)) * s.channels;
  }
};

// Per-chunk partials [total, 2, C] summed per image and channel in chunk order: [B, 2, C].
std::vector<double> merge_partials(const GroupNormShape& s, const Chunks& ch, const std::vector<double>& part) {
  const int64_t c = s.channels;
  std::vector<double> sums(static_cast<size_t>(s.batch * 2 * c), 0.0);
  for (int64_t b = 0; b < s.batch; ++b) {
    double* dst = sums.data() + b * 2 * c;
    for (int64_t k = 0; k < ch.per_image; ++k) {
      const double* src = part.data() + (b * ch.per_image + k) * 2 * c;
      for (int64_t j = 0; j < 2 * c; ++j) dst[j] += src[j];
    }
  }
  return sums;
}

}  // namespace

void group_norm_forward(const GroupNormShape& s, const float* x, const float* gamma, const float* beta, double eps,
                        float* y, float* mean, float* rstd) {
  const int64_t c = s.channels, groups = s.groups, cg = c / groups;
  if (s.batch == 0 || c == 0) return;
  const Chunks ch(s);
  std::vector<double> part(static_cast<size_t>(ch.total * 2 * c));
  parallel_for(ch.total, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      double* p = part.data() + i * 2 * c;
      moment_sums(x + ch.offset(s, i), ch.pixels(s, i), c, p, p + c);
    }
  });
  const std::vector<double> sums = merge_partials(s, ch, part);
  const double n = static_cast<double>(s.spatial) * static_cast<double>(cg);
  // Per image and channel: the group's mean, rstd·γ, and β.
  std::vector<float> mu(static_cast<size_t>(s.batch * c)), scale(mu.size()), shift(mu.size());
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t g = 0; g < groups; ++g) {
      double s1 = 0.0, s2 = 0.0;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
        s1 += sums[b * 2 * c + j];
        s2 += sums[b * 2 * c + c + j];
      }
      const double m = n > 0 ? s1 / n : 0.0;
      const double var = n > 0 ? std::max(s2 / n - m * m, 0.0) : 0.0;
      const float mf = static_cast<float>(m);
      const float rf = static_cast<float>(1.0 / std::sqrt(var + eps));
      mean[b * groups + g] = mf;
      rstd[b * groups + g] = rf;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
        mu[b * c + j] = mf;
        scale[b * c + j] = rf * gamma[j];
        shift[b * c + j] = beta[j];
      }
    }
  }
  parallel_for(ch.total, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = ch.image(i), off = ch.offset(s, i);
      normalize_rows(x + off, ch.pixels(s, i), c, mu.data() + b * c, scale.data() + b * c, shift.data() + b * c, y + off);
    }
  });
}

void group_norm_backward(const GroupNormShape& s, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, float* dx, float* dgamma, float* dbeta) {
  const int64_t c = s.channels, groups = s.groups, cg = c / groups;
  std::fill(dgamma, dgamma + c, 0.0f);
  std::fill(dbeta, dbeta + c, 0.0f);
  if (s.batch == 0 || c == 0) return;
  std::vector<float> mu(static_cast<size_t>(s.batch * c));
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t j = 0; j < c; ++j) mu[b * c + j] = mean[b * groups + j / cg];
  }
  const Chunks ch(s);
  std::vector<double> part(static_cast<size_t>(ch.total * 2 * c));
  parallel_for(ch.total, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      double* p = part.data() + i * 2 * c;
      const int64_t off = ch.offset(s, i);
      backward_sums(dy + off, x + off, ch.pixels(s, i), c, mu.data() + ch.image(i) * c, p, p + c);
    }
  });
  // sums[b] = (Σ dy, Σ dy·(x − μ)) per channel.
  const std::vector<double> sums = merge_partials(s, ch, part);
  const double n = static_cast<double>(s.spatial) * static_cast<double>(cg);
  std::vector<double> dg(static_cast<size_t>(c), 0.0), db(static_cast<size_t>(c), 0.0);
  std::vector<float> k1(mu.size()), k2(mu.size()), k3(mu.size());
  for (int64_t b = 0; b < s.batch; ++b) {
    const double* s1 = sums.data() + b * 2 * c;
    const double* s2 = s1 + c;
    for (int64_t g = 0; g < groups; ++g) {
      const double r = rstd[b * groups + g];
      // a = Σ_group γ·dy, q = Σ_group γ·dy·x̂.
      double a = 0.0, q = 0.0;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
        db[j] += s1[j];
        dg[j] += r * s2[j];
        a += static_cast<double>(gamma[j]) * s1[j];
        q += static_cast<double>(gamma[j]) * s2[j] * r;
      }
      // dx = r·(γ·dy − a/n − x̂·q/n) = dy·(γ·r) + (x − μ)·(−r²·q/n) + (−r·a/n).
      const float f2 = n > 0 ? static_cast<float>(-r * r * q / n) : 0.0f;
      const float f3 = n > 0 ? static_cast<float>(-r * a / n) : 0.0f;
      for (int64_t j = g * cg; j < (g + 1) * cg; ++j) {
        k1[b * c + j] = static_cast<float>(static_cast<double>(gamma[j]) * r);
        k2[b * c + j] = f2;
        k3[b * c + j] = f3;
      }
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    dgamma[j] = static_cast<float>(dg[j]);
    dbeta[j] = static_cast<float>(db[j]);
  }
  parallel_for(ch.total, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = ch.image(i), off = ch.offset(s, i);
      backward_dx(dy + off, x + off, ch.pixels(s, i), c, mu.data() + b * c, k1.data() + b * c, k2.data() + b * c,
                  k3.data() + b * c, dx + off);
    }
  });
}

}  // namespace retinanet
