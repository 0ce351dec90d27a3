#include "winograd.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../runtime/dispatch.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "gemm.h"

namespace retinanet {
namespace {

constexpr int64_t kTile = 16;  // 4x4 transformed values per tile

// The path's default where RETINANET_WINOGRAD does not say (1: on, 0: off).
constexpr bool kDefaultOn = false;

bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("RETINANET_WINOGRAD");
    if (v != nullptr && std::strcmp(v, "1") == 0) return true;
    if (v != nullptr && std::strcmp(v, "0") == 0) return false;
    return kDefaultOn;
  }();
  return on;
}

// U[xi][c][k] = (G g G^T)[xi] for each input channel c and output channel k, with
// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
RETINANET_DISPATCH void filter_rows(const WinogradFilter& f, int64_t c_in, int64_t k_out, int64_t c0, int64_t c1,
                                    float* __restrict u) {
  const int64_t ks = f.out;
  for (int64_t c = c0; c < c1; ++c) {
    const float* g[9];
    for (int t = 0; t < 9; ++t) g[t] = f.w + t * f.tap + c * f.in;
    float* out[16];
    for (int xi = 0; xi < 16; ++xi) out[xi] = u + (xi * c_in + c) * k_out;
    for (int64_t k = 0; k < k_out; ++k) {
      // Rows of G g (4 x 3), then (G g) G^T (4 x 4).
      float r[4][3];
      for (int j = 0; j < 3; ++j) {
        const float g0 = g[j][k * ks], g1 = g[3 + j][k * ks], g2 = g[6 + j][k * ks];
        r[0][j] = g0;
        r[1][j] = 0.5f * (g0 + g1 + g2);
        r[2][j] = 0.5f * (g0 - g1 + g2);
        r[3][j] = g2;
      }
      for (int i = 0; i < 4; ++i) {
        out[i * 4 + 0][k] = r[i][0];
        out[i * 4 + 1][k] = 0.5f * (r[i][0] + r[i][1] + r[i][2]);
        out[i * 4 + 2][k] = 0.5f * (r[i][0] - r[i][1] + r[i][2]);
        out[i * 4 + 3][k] = r[i][2];
      }
    }
  }
}

struct Tiles {
  int64_t h, w;  // tiles per image along y and x
};

// V[t][xi][c] = (B^T d B)[xi] of tile t's 4x4 input patch d (zeros outside the image), with
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; vectorized along the channels.
RETINANET_DISPATCH void input_tiles(const Conv2DShape& s, const Tiles& tl, const float* __restrict x, int64_t t0,
                                    int64_t t1, int64_t first, float* __restrict v, const float* __restrict zeros) {
  const int64_t c_in = s.in_c;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t g = first + t;
    const int64_t tx = g % tl.w, ty = (g / tl.w) % tl.h, b = g / (tl.w * tl.h);
    const float* d[16];
    for (int i = 0; i < 4; ++i) {
      const int64_t iy = ty * 2 - s.pad_top + i;
      for (int j = 0; j < 4; ++j) {
        const int64_t ix = tx * 2 - s.pad_left + j;
        const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
        d[i * 4 + j] = inside ? x + ((b * s.in_h + iy) * s.in_w + ix) * c_in : zeros;
      }
    }
    float* out = v + t * kTile * c_in;
    for (int64_t c = 0; c < c_in; ++c) {
      float r[4][4];  // B^T d
      for (int j = 0; j < 4; ++j) {
        const float d0 = d[j][c], d1 = d[4 + j][c], d2 = d[8 + j][c], d3 = d[12 + j][c];
        r[0][j] = d0 - d2;
        r[1][j] = d1 + d2;
        r[2][j] = d2 - d1;
        r[3][j] = d1 - d3;
      }
      for (int i = 0; i < 4; ++i) {  // (B^T d) B
        out[(i * 4 + 0) * c_in + c] = r[i][0] - r[i][2];
        out[(i * 4 + 1) * c_in + c] = r[i][1] + r[i][2];
        out[(i * 4 + 2) * c_in + c] = r[i][2] - r[i][1];
        out[(i * 4 + 3) * c_in + c] = r[i][1] - r[i][3];
      }
    }
  }
}

// dst[j] = act(src[j] + bias[j] + residual[j]) over a row of n channels (bias, residual optional):
// the activation chosen outside the loop so that each case vectorizes.
RETINANET_INLINE void epilogue_row(float* __restrict dst, const float* __restrict src, const float* __restrict bias,
                                   const float* __restrict residual, int64_t n, const Epilogue& e) {
  for (int64_t j = 0; j < n; ++j) dst[j] = src[j] + (bias ? bias[j] : 0.0f) + (residual ? residual[j] : 0.0f);
  switch (e.activation) {
    case Activation::kRelu:
      for (int64_t j = 0; j < n; ++j) dst[j] = dst[j] > 0.0f ? dst[j] : 0.0f;
      break;
    case Activation::kRelu6:
      for (int64_t j = 0; j < n; ++j) dst[j] = std::min(std::max(dst[j], 0.0f), 6.0f);
      break;
    case Activation::kLeakyRelu:
      for (int64_t j = 0; j < n; ++j) dst[j] = dst[j] > 0.0f ? dst[j] : e.leaky_alpha * dst[j];
      break;
    default:
      break;
  }
}

// The 2x2 outputs of each tile, A^T m A with A^T = [1 1 1 0; 0 1 -1 -1], into a row of 4 x K
// (branch-free, vectorized along the channels), then the epilogue into y; outputs past the
// image's edge (odd sizes) are not written.
RETINANET_DISPATCH void output_tiles(const Conv2DShape& s, const Tiles& tl, const float* __restrict m, int64_t t0,
                                     int64_t t1, int64_t first, const Epilogue& e, float* __restrict y,
                                     float* __restrict quad) {
  const int64_t k_out = s.out_c;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t g = first + t;
    const int64_t tx = g % tl.w, ty = (g / tl.w) % tl.h, b = g / (tl.w * tl.h);
    const float* in = m + t * kTile * k_out;
    for (int64_t k = 0; k < k_out; ++k) {
      float q[2][4];  // A^T m
      for (int j = 0; j < 4; ++j) {
        const float m0 = in[j * k_out + k], m1 = in[(4 + j) * k_out + k], m2 = in[(8 + j) * k_out + k],
                    m3 = in[(12 + j) * k_out + k];
        q[0][j] = m0 + m1 + m2;
        q[1][j] = m1 - m2 - m3;
      }
      quad[k] = q[0][0] + q[0][1] + q[0][2];
      quad[k_out + k] = q[0][1] - q[0][2] - q[0][3];
      quad[2 * k_out + k] = q[1][0] + q[1][1] + q[1][2];
      quad[3 * k_out + k] = q[1][1] - q[1][2] - q[1][3];
    }
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        const int64_t oy = ty * 2 + i, ox = tx * 2 + j;
        if (oy >= s.out_h || ox >= s.out_w) continue;
        const int64_t px = ((b * s.out_h + oy) * s.out_w + ox) * k_out;
        epilogue_row(y + px, quad + (i * 2 + j) * k_out, e.bias, e.residual ? e.residual + px : nullptr, k_out, e);
      }
    }
  }
}

}  // namespace

bool winograd_applies(const Conv2DShape& s) {
  return enabled() && s.filter_h == 3 && s.filter_w == 3 && s.stride_h == 1 && s.stride_w == 1 && s.in_c >= 64 &&
         s.out_c >= 64 && s.out_h >= 2 && s.out_w >= 2;
}

void conv2d_winograd(const Conv2DShape& s, const float* x, const WinogradFilter& f, const Epilogue& e, float* y) {
  const int64_t c_in = s.in_c, k_out = s.out_c;
  const Tiles tl{(s.out_h + 1) / 2, (s.out_w + 1) / 2};
  const int64_t tiles = s.batch * tl.h * tl.w;
  // The transformed filters, [16][C][K]; a call's own (filters change every training step).
  float* const u = scratch_floats(ScratchSlot::kFilters, static_cast<size_t>(kTile * c_in * k_out));
  parallel_for(c_in, 8, [&](int64_t c0, int64_t c1) { filter_rows(f, c_in, k_out, c0, c1, u); });
  const std::vector<float> zeros(static_cast<size_t>(c_in), 0.0f);
  // Tiles in chunks whose transformed inputs and products stay within 8 MB each.
  const int64_t chunk = std::max<int64_t>(64, (int64_t{1} << 21) / (kTile * std::max(c_in, k_out)));
  float* const v = scratch_floats(ScratchSlot::kColumns, static_cast<size_t>(std::min(chunk, tiles) * kTile * c_in));
  float* const m = scratch_floats(ScratchSlot::kProducts, static_cast<size_t>(std::min(chunk, tiles) * kTile * k_out));
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t n = std::min(chunk, tiles - t0);
    parallel_for(n, 16, [&](int64_t a, int64_t b) { input_tiles(s, tl, x, a, b, t0, v, zeros.data()); });
    for (int64_t xi = 0; xi < kTile; ++xi) {
      // M[t][xi][:] = V[t][xi][:] x U[xi]: tile t's rows sit kTile rows apart.
      GemmArgs g;
      g.m = n; g.n = k_out; g.k = c_in;
      g.a = v + xi * c_in; g.lda = kTile * c_in;
      g.b = u + xi * c_in * k_out; g.ldb = k_out;
      g.c = m + xi * k_out; g.ldc = kTile * k_out;
      sgemm(g);
    }
    parallel_for(n, 16, [&](int64_t a, int64_t b) {
      std::vector<float> quad(static_cast<size_t>(4 * k_out));
      output_tiles(s, tl, m, a, b, t0, e, y, quad.data());
    });
  }
}

}  // namespace retinanet
