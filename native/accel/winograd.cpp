#include "winograd.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../runtime/cpu_isa.h"
#include "../runtime/dispatch.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "gemm.h"
#include "gemm_tile.h"

namespace retinanet {
namespace {

// F(4x4, 3x3) (Lavin and Gray, 2016; interpolation points 0, ±1, ±2 and infinity): a 6x6 input
// tile gives a 4x4 output tile through 36 products per channel pair instead of 144.
constexpr int64_t kOut = 4;   // output tile side
constexpr int64_t kXi = 36;   // transformed values per tile (6 x 6)

// RETINANET_WINOGRAD=1 takes the path for every shape it can compute, 0 for none; otherwise it
// is taken where it wins (winograd_applies).
enum class Mode { kAuto, kOn, kOff };

Mode mode() {
  static const Mode m = [] {
    const char* v = std::getenv("RETINANET_WINOGRAD");
    if (v != nullptr && std::strcmp(v, "1") == 0) return Mode::kOn;
    if (v != nullptr && std::strcmp(v, "0") == 0) return Mode::kOff;
    return Mode::kAuto;
  }();
  return m;
}

// Below this many tiles per call the filter transform (36 x C x K values, every call; the filter
// gradient's output transform as many) costs more than the products save: both grow with C x K,
// so the tile count decides. Forward on a Zen 5 VM, 2 threads, streamed filter transform (one
// process alternating RETINANET_WINOGRAD=1 and the direct kernel): 10x10 and 12x12 (9 tiles)
// 0.84-0.88x the direct kernel's speed; 14x14 and 16x16 (16 tiles) 1.1-1.2x at 256-512 channels
// but 0.91x at 64; 19x19 (25 tiles) 1.25-1.29x at 256 and 512, 20x20 at 64 1.06x. (With cached
// stores it had been 64: 19x19 took 0.73x.) bench/winograd.md.
constexpr int64_t kMinTiles = 24;

// 16 channels at a time: the transforms write and read 36 streams each, so every access must be
// a whole cache line (one float at a time, the streams evict each other).
typedef float vf __attribute__((vector_size(64)));
constexpr int64_t kV = 16;

RETINANET_INLINE vf load_v(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
RETINANET_INLINE void store_v(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
// The first w (< 16) floats, the rest zero; and their store.
RETINANET_INLINE vf load_part(const float* p, int64_t w) {
  alignas(64) float t[kV] = {};
  for (int64_t i = 0; i < w; ++i) t[i] = p[i];
  return load_v(t);
}
RETINANET_INLINE void store_part(float* p, vf v, int64_t w) {
  alignas(64) float t[kV];
  store_v(t, v);
  for (int64_t i = 0; i < w; ++i) p[i] = t[i];
}

// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1] applied to
// three values (a column or a row of a 3x3 filter).
RETINANET_INLINE void g_times(vf g0, vf g1, vf g2, vf (&o)[6]) {
  const vf p = g0 + g2;
  o[0] = g0 * 0.25f;
  o[1] = (p + g1) * (-1.0f / 6.0f);
  o[2] = (p - g1) * (-1.0f / 6.0f);
  const vf q = g0 * (1.0f / 24.0f) + g2 * (1.0f / 6.0f);
  o[3] = q + g1 * (1.0f / 12.0f);
  o[4] = q - g1 * (1.0f / 12.0f);
  o[5] = g2;
}

// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
// applied to six values.
RETINANET_INLINE void bt_times(vf d0, vf d1, vf d2, vf d3, vf d4, vf d5, vf (&o)[6]) {
  const vf a = d4 - 4.0f * d2, b = d3 - 4.0f * d1, c = d4 - d2, e = 2.0f * (d3 - d1);
  o[0] = 4.0f * d0 - 5.0f * d2 + d4;
  o[1] = a + b;
  o[2] = a - b;
  o[3] = c + e;
  o[4] = c - e;
  o[5] = 4.0f * d1 - 5.0f * d3 + d5;
}

// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] applied to six values.
RETINANET_INLINE void at_times(vf m0, vf m1, vf m2, vf m3, vf m4, vf m5, vf (&o)[4]) {
  const vf p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
  o[0] = m0 + p12 + p34;
  o[1] = d12 + 2.0f * d34;
  o[2] = p12 + 4.0f * p34;
  o[3] = d12 + 8.0f * d34 + m5;
}

// A (6x4, the transpose of A^T above) applied to four values: the filter gradient's transform of
// a 4x4 tile of the output gradient.
RETINANET_INLINE void a_times(vf y0, vf y1, vf y2, vf y3, vf (&o)[6]) {
  const vf p02 = y0 + y2, p13 = y1 + y3, q02 = y0 + 4.0f * y2, q13 = 2.0f * y1 + 8.0f * y3;
  o[0] = y0;
  o[1] = p02 + p13;
  o[2] = p02 - p13;
  o[3] = q02 + q13;
  o[4] = q02 - q13;
  o[5] = y3;
}

// G^T (3x6) applied to six values: the filter gradient's output transform.
RETINANET_INLINE void gt_times(vf m0, vf m1, vf m2, vf m3, vf m4, vf m5, vf (&o)[3]) {
  const vf p12 = m1 + m2, d12 = m2 - m1, p34 = m3 + m4, d34 = m3 - m4;
  o[0] = m0 * 0.25f - p12 * (1.0f / 6.0f) + p34 * (1.0f / 24.0f);
  o[1] = d12 * (1.0f / 6.0f) + d34 * (1.0f / 12.0f);
  o[2] = (p34 - p12) * (1.0f / 6.0f) + m5;
}

// Columns [k0, k0 + 16) of row r of a packed B: one store where the strips are 16 or 32 wide
// (AVX-512), a copy per strip where they are narrower (AVX2's 8, the baseline's 4 or 8).
RETINANET_INLINE void store_packed(float* b, const PackedBLayout& lay, int64_t r, int64_t k0, vf v) {
  if (lay.nr % kV == 0) {
    store_v(b + lay.offset(r, k0), v);
    return;
  }
  alignas(64) float t[kV];
  store_v(t, v);
  const int64_t width = lay.strips() * lay.nr;
  for (int64_t q = 0; q < kV && k0 + q < width; q += lay.nr) std::memcpy(b + lay.offset(r, k0 + q), t + q, lay.nr * sizeof(float));
}

// U[xi][c][k] = (G g G^T)[xi] for input channels [c0, c1) and every output channel k, each U[xi]
// written as the GEMM's packed B (lay); `put` stores one vector where it is a whole aligned one.
template <typename Put>
RETINANET_INLINE void filter_rows_with(const WinogradFilter& f, int64_t c_in, int64_t k_out, int64_t c0, int64_t c1,
                                       const PackedBLayout& lay, float* __restrict u, Put put) {
  const int64_t ks = f.out;
  // The 36 U[xi] share one layout: where (c, k0) goes is worked out once for all of them (per
  // store, its two integer divisions made this transform a third of a 38x38 256->256 inference
  // convolution's time).
  const int64_t floats = lay.floats();
  const bool whole = lay.nr % kV == 0;  // a vector's 16 lanes lie in one strip
  for (int64_t c = c0; c < c1; ++c) {
    const float* g[9];
    for (int t = 0; t < 9; ++t) g[t] = f.w + t * f.tap + c * f.in;
    for (int64_t k0 = 0; k0 < k_out; k0 += kV) {
      const int64_t w = std::min(kV, k_out - k0);
      const int64_t at = whole ? lay.offset(c, k0) : 0;
      vf tap[9];
      for (int t = 0; t < 9; ++t) {
        if (ks == 1 && w == kV) {
          tap[t] = load_v(g[t] + k0);
        } else {  // the turned filter of the input gradient reads output channels ks apart
          alignas(64) float tmp[kV] = {};
          for (int64_t i = 0; i < w; ++i) tmp[i] = g[t][(k0 + i) * ks];
          tap[t] = load_v(tmp);
        }
      }
      vf col[3][6];  // G g, column by column (filter column j: taps j, 3 + j, 6 + j)
      for (int j = 0; j < 3; ++j) g_times(tap[j], tap[3 + j], tap[6 + j], col[j]);
      for (int i = 0; i < 6; ++i) {
        vf row[6];  // row i of (G g) G^T
        g_times(col[0][i], col[1][i], col[2][i], row);
        // Straight into U[xi]'s packed layout; lanes past k_out hold zeros (zero taps in, zeros out).
        for (int l = 0; l < 6; ++l) {
          if (whole) {
            put(u + (i * 6 + l) * floats + at, row[l]);
          } else {
            store_packed(u + (i * 6 + l) * floats, lay, c, k0, row[l]);
          }
        }
      }
    }
  }
}

RETINANET_DISPATCH void filter_rows_stored(const WinogradFilter& f, int64_t c_in, int64_t k_out, int64_t c0, int64_t c1,
                                           const PackedBLayout& lay, float* __restrict u) {
  filter_rows_with(f, c_in, k_out, c0, c1, lay, u, [](float* p, vf v) { store_v(p, v); });
}

// The transformed filters (36 x C x K floats: 9.4 MB at 256 channels, 26.5 MB for the class
// output's 720) are written once and read by the products after the whole transform, so on x86
// they bypass the caches (non-temporal stores): no read of each line before it is written, no
// eviction of the inputs. Zen 5 VM, 2 threads: a head's 256 -> 256 transform 0.9 -> 0.6 ms, the
// class output's 3.5 -> 1.6 ms, the products unchanged.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
struct StreamAvx512 {
  __attribute__((target("avx512f"))) void operator()(float* p, vf v) const {
    _mm512_stream_ps(p, (__m512)v);
  }
};
struct StreamAvx2 {
  __attribute__((target("avx2"))) void operator()(float* p, vf v) const {
    alignas(64) float t[kV];
    store_v(t, v);
    _mm256_stream_ps(p, _mm256_load_ps(t));
    _mm256_stream_ps(p + 8, _mm256_load_ps(t + 8));
  }
};
__attribute__((target("avx512f"))) void filter_rows_streamed_avx512(const WinogradFilter& f, int64_t c_in,
                                                                    int64_t k_out, int64_t c0, int64_t c1,
                                                                    const PackedBLayout& lay, float* __restrict u) {
  filter_rows_with(f, c_in, k_out, c0, c1, lay, u, StreamAvx512{});
  _mm_sfence();  // ordered before the pool's hand-off to the products
}
__attribute__((target("avx2,fma"))) void filter_rows_streamed_avx2(const WinogradFilter& f, int64_t c_in,
                                                                 int64_t k_out, int64_t c0, int64_t c1,
                                                                 const PackedBLayout& lay, float* __restrict u) {
  filter_rows_with(f, c_in, k_out, c0, c1, lay, u, StreamAvx2{});
  _mm_sfence();
}
#define RETINANET_STREAMED_FILTERS 1
#endif

void filter_rows(const WinogradFilter& f, int64_t c_in, int64_t k_out, int64_t c0, int64_t c1, const PackedBLayout& lay,
                 float* u) {
#ifdef RETINANET_STREAMED_FILTERS
  if (cpu_isa() == CpuIsa::kAvx512) return filter_rows_streamed_avx512(f, c_in, k_out, c0, c1, lay, u);
  if (cpu_isa() == CpuIsa::kAvx2) return filter_rows_streamed_avx2(f, c_in, k_out, c0, c1, lay, u);
#endif
  filter_rows_stored(f, c_in, k_out, c0, c1, lay, u);
}

struct Tiles {
  int64_t h, w;  // tiles per image along y and x
};
Tiles tiles_of(const Conv2DShape& s) { return {(s.out_h + kOut - 1) / kOut, (s.out_w + kOut - 1) / kOut}; }

// Tile g's image and place: its first output pixel is (ty, tx) * 4.
struct TileAt {
  int64_t b, ty, tx;
};
RETINANET_INLINE TileAt tile_at(const Tiles& tl, int64_t g) { return {g / (tl.w * tl.h), (g / tl.w) % tl.h, g % tl.w}; }

// The convolutions whose tiles go through one set of products: one, or one filter's on several
// inputs (a head's convolution on each pyramid level), numbered one after another.
struct Part {
  const Conv2DShape* s;
  const float* x;
  float* y;
  const float* residual;  // the epilogue's, as y
  Tiles tl;
  int64_t first, tiles;  // its tiles' numbers: [first, first + tiles)
};
struct TileSet {
  const Part* parts;
  int64_t count, tiles;
};
TileSet tile_set(std::vector<Part>& parts) {
  int64_t n = 0;
  for (Part& p : parts) {
    p.tl = tiles_of(*p.s);
    p.first = n;
    p.tiles = p.s->batch * p.tl.h * p.tl.w;
    n += p.tiles;
  }
  return {parts.data(), static_cast<int64_t>(parts.size()), n};
}
// The part that tile g belongs to (a handful of parts: a scan).
RETINANET_INLINE const Part& part_of(const TileSet& ts, int64_t g) {
  int64_t i = 0;
  while (i + 1 < ts.count && g >= ts.parts[i + 1].first) ++i;
  return ts.parts[i];
}

// Pointers to the N x N pixels (rows of `ch` floats) of image b whose corner is (y0, x0), of an
// h x w image; `zeros` (ch floats) where the patch leaves the image.
template <int N>
RETINANET_INLINE void patch(const float* img, int64_t h, int64_t w, int64_t ch, int64_t b, int64_t y0, int64_t x0,
                            const float* zeros, const float* (&p)[N * N]) {
  for (int i = 0; i < N; ++i) {
    const int64_t y = y0 + i;
    for (int j = 0; j < N; ++j) {
      const int64_t x = x0 + j;
      p[i * N + j] = y >= 0 && y < h && x >= 0 && x < w ? img + ((b * h + y) * w + x) * ch : zeros;
    }
  }
}

// out[xi * xi_stride + c] = (T p T^T)[xi] over the ch channels of an N x N patch p (pixel rows of
// ch floats), where `t` applies T (6 x N) to N vectors: the input and output-gradient transforms.
template <int N, typename T>
RETINANET_INLINE void transform_patch(const float* const (&p)[N * N], int64_t ch, float* out, int64_t xi_stride, T t) {
  for (int64_t c0 = 0; c0 < ch; c0 += kV) {
    const int64_t w = std::min(kV, ch - c0);
    vf col[N][6];  // T p, column by column
    for (int j = 0; j < N; ++j) {
      vf in[N];
      for (int i = 0; i < N; ++i) in[i] = w == kV ? load_v(p[i * N + j] + c0) : load_part(p[i * N + j] + c0, w);
      t(in, col[j]);
    }
    for (int i = 0; i < 6; ++i) {
      vf in[N], row[6];  // row i of (T p) T^T
      for (int j = 0; j < N; ++j) in[j] = col[j][i];
      t(in, row);
      for (int l = 0; l < 6; ++l) {
        float* dst = out + (i * 6 + l) * xi_stride + c0;
        if (w == kV) store_v(dst, row[l]); else store_part(dst, row[l], w);
      }
    }
  }
}

// V[xi][t][c] = (B^T d B)[xi] of tile t's 6x6 input patch d (zeros outside the image), for the
// chunk's tiles [t0, t1) of n (first + t in the set's numbering).
RETINANET_DISPATCH void input_tiles(const TileSet& ts, int64_t t0, int64_t t1, int64_t first, int64_t n,
                                    float* __restrict v, const float* __restrict zeros) {
  const int64_t c_in = ts.parts[0].s->in_c;
  const int64_t xi_stride = n * c_in;
  for (int64_t t = t0; t < t1; ++t) {
    const Part& p = part_of(ts, first + t);
    const Conv2DShape& s = *p.s;
    const TileAt pos = tile_at(p.tl, first + t - p.first);
    const float* d[36];
    patch<6>(p.x, s.in_h, s.in_w, c_in, pos.b, pos.ty * kOut - s.pad_top, pos.tx * kOut - s.pad_left, zeros, d);
    transform_patch<6>(d, c_in, v + t * c_in, xi_stride, [](const vf (&in)[6], vf (&o)[6]) {
      bt_times(in[0], in[1], in[2], in[3], in[4], in[5], o);
    });
  }
}

// The 4x4 outputs of each tile, A^T m A, each pixel's 16 channels at a time finished in registers
// (+ bias, + residual, activation) and stored into its part's y; outputs past the image's edge are
// not written. (It went through a 16-pixel buffer and a second pass per pixel: the same bits and,
// measured, the same speed — the time is the 36 planes' loads — with more code.)
RETINANET_DISPATCH void output_tiles(const TileSet& ts, const float* __restrict m, int64_t t0, int64_t t1,
                                     int64_t first, int64_t n, const Epilogue& e) {
  const int64_t k_out = ts.parts[0].s->out_c;
  const int64_t xi_stride = n * k_out;
  for (int64_t t = t0; t < t1; ++t) {
    const Part& p = part_of(ts, first + t);
    const Conv2DShape& s = *p.s;
    const TileAt pos = tile_at(p.tl, first + t - p.first);
    const int64_t rows = std::min(kOut, s.out_h - pos.ty * kOut), cols = std::min(kOut, s.out_w - pos.tx * kOut);
    const int64_t corner = ((pos.b * s.out_h + pos.ty * kOut) * s.out_w + pos.tx * kOut) * k_out;
    const float* in = m + t * k_out;
    for (int64_t k0 = 0; k0 < k_out; k0 += kV) {
      const int64_t w = std::min(kV, k_out - k0);
      const auto load = [w](const float* src) { return w == kV ? load_v(src) : load_part(src, w); };
      const auto at = [&](int q) { return load(in + q * xi_stride + k0); };
      vf col[6][4];  // A^T m, column by column
      for (int j = 0; j < 6; ++j) at_times(at(j), at(6 + j), at(12 + j), at(18 + j), at(24 + j), at(30 + j), col[j]);
      const vf bias = e.bias ? load(e.bias + k0) : vf{};
      for (int64_t i = 0; i < rows; ++i) {
        vf row[4];
        at_times(col[0][i], col[1][i], col[2][i], col[3][i], col[4][i], col[5][i], row);
        for (int64_t l = 0; l < cols; ++l) {
          const int64_t px = corner + (i * s.out_w + l) * k_out + k0;
          vf v = row[l] + bias;
          if (p.residual) v += load(p.residual + px);
          v = gemm_detail::activate(v, e);
          if (w == kV) store_v(p.y + px, v); else store_part(p.y + px, v, w);
        }
      }
    }
  }
}

// D[xi][t][k] = (A dY A^T)[xi] of tile t's 4x4 output gradient (zeros past the image's edge).
RETINANET_DISPATCH void gradient_tiles(const Conv2DShape& s, const Tiles& tl, const float* __restrict dy, int64_t t0,
                                       int64_t t1, int64_t first, int64_t n, float* __restrict d,
                                       const float* __restrict zeros) {
  const int64_t k_out = s.out_c;
  const int64_t xi_stride = n * k_out;
  for (int64_t t = t0; t < t1; ++t) {
    const TileAt pos = tile_at(tl, first + t);
    const float* src[16];
    patch<4>(dy, s.out_h, s.out_w, k_out, pos.b, pos.ty * kOut, pos.tx * kOut, zeros, src);
    transform_patch<4>(src, k_out, d + t * k_out, xi_stride, [](const vf (&in)[4], vf (&o)[6]) {
      a_times(in[0], in[1], in[2], in[3], o);
    });
  }
}

// dW[ky][kx][c][k] = (G^T M G)[ky][kx] for input channels [c0, c1), M [36][C][K].
RETINANET_DISPATCH void filter_gradient_rows(const float* __restrict m, int64_t c_in, int64_t k_out, int64_t c0,
                                             int64_t c1, float* __restrict dw) {
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t k0 = 0; k0 < k_out; k0 += kV) {
      const int64_t w = std::min(kV, k_out - k0);
      const auto at = [&](int xi) {
        const float* src = m + (xi * c_in + c) * k_out + k0;
        return w == kV ? load_v(src) : load_part(src, w);
      };
      vf col[6][3];  // G^T M, column by column
      for (int j = 0; j < 6; ++j) gt_times(at(j), at(6 + j), at(12 + j), at(18 + j), at(24 + j), at(30 + j), col[j]);
      for (int i = 0; i < 3; ++i) {
        vf row[3];  // row i of (G^T M) G
        gt_times(col[0][i], col[1][i], col[2][i], col[3][i], col[4][i], col[5][i], row);
        for (int l = 0; l < 3; ++l) {
          float* dst = dw + ((i * 3 + l) * c_in + c) * k_out + k0;
          if (w == kV) store_v(dst, row[l]); else store_part(dst, row[l], w);
        }
      }
    }
  }
}

// How many tiles go in a chunk: the chunk's transformed inputs and products (36 values per tile
// and channel) stay within 32 MB each.
struct Chunking {
  int64_t chunk, most;  // most: the largest chunk
};
Chunking chunking(const Conv2DShape& s, int64_t tiles) {
  const int64_t chunk = std::max<int64_t>(64, (int64_t{1} << 23) / (kXi * std::max(s.in_c, s.out_c)));
  return {chunk, std::min(chunk, tiles)};
}

int64_t tile_count(const Conv2DShape& s) {
  const Tiles tl = tiles_of(s);
  return s.batch * tl.h * tl.w;
}

// The shapes the transforms compute: 3x3, stride 1, 64 channels or more in and 8 or more out (any
// output size: a tile's outputs past the edge are not written). Narrow outputs pay: the input
// transform and the products are per input channel, and the direct kernel's [pixels, 9 C] x [9 C,
// K] GEMM is at its least efficient there. A head's box output (256 -> 36 over P3-P7 at 600 px,
// Zen 5 VM, 2 threads): 9.4 -> 5.0 ms; 256 -> 9 3.3 -> 2.7 ms; 64 -> 36 1.8 -> 1.2 ms.
bool eligible(const Conv2DShape& s) {
  return s.filter_h == 3 && s.filter_w == 3 && s.stride_h == 1 && s.stride_w == 1 && s.in_c >= 64 && s.out_c >= 8;
}

// y = conv(x, f) with the epilogue for every part, through one filter transform and, chunk by
// chunk, one set of 36 products over the tiles of all parts.
void winograd_forward(const TileSet& ts, const WinogradFilter& f, const Epilogue& e) {
  const Conv2DShape& s0 = *ts.parts[0].s;
  const int64_t c_in = s0.in_c, k_out = s0.out_c;
  const int64_t tiles = ts.tiles;
  const Chunking ch = chunking(s0, tiles);
  const int64_t chunk = ch.chunk, most = ch.most;
  // The transformed filters, 36 packed [C, K]; a call's own (filters change every training step).
  const PackedBLayout lay = packed_b_layout(k_out, c_in);
  float* const u = scratch_floats(ScratchSlot::kFilters, static_cast<size_t>(kXi * lay.floats()));
  // Columns past the last 16 that the transform writes (a 32-wide strip half full) stay zero.
  if (lay.strips() * lay.nr > (k_out + kV - 1) / kV * kV) std::fill(u, u + kXi * lay.floats(), 0.0f);
  parallel_for(c_in, 8, [&](int64_t c0, int64_t c1) { filter_rows(f, c_in, k_out, c0, c1, lay, u); });
  const std::vector<float> zeros(static_cast<size_t>(c_in), 0.0f);
  float* const v = scratch_floats(ScratchSlot::kColumns, static_cast<size_t>(most * kXi * c_in));
  float* const m = scratch_floats(ScratchSlot::kProducts, static_cast<size_t>(most * kXi * k_out));
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t n = std::min(chunk, tiles - t0);
    parallel_for(n, 8, [&](int64_t a, int64_t b) { input_tiles(ts, a, b, t0, n, v, zeros.data()); });
    // M[xi] = V[xi] x U[xi], [n, C] x [C, K]: one whole product per pool task (each runs on one
    // thread), so that a product's packed U stays in that core's cache.
    parallel_for(kXi, 1, [&](int64_t x0, int64_t x1) {
      for (int64_t xi = x0; xi < x1; ++xi) {
        GemmArgs g;
        g.m = n; g.n = k_out; g.k = c_in;
        g.a = v + xi * n * c_in; g.lda = c_in;
        g.c = m + xi * n * k_out; g.ldc = k_out;
        sgemm_packed_b(g, u + xi * lay.floats());
      }
    });
    parallel_for(n, 4, [&](int64_t a, int64_t b) {
      output_tiles(ts, m, a, b, t0, n, e);
    });
  }
}

}  // namespace

bool winograd_applies(const Conv2DShape& s, bool training) {
  const Mode m = mode();
  if (m == Mode::kOff || !eligible(s) || s.out_h < 2 || s.out_w < 2) return false;
  // Training takes it only when asked for (RETINANET_WINOGRAD=1): its float32 error (10x the
  // direct kernel's) changes a training run's trajectory; over paired user-data draws it trained
  // no better and the check at its default was marginal (docs/training.md).
  return m == Mode::kOn || (!training && tile_count(s) >= kMinTiles);
}

bool winograd_applies_levels(const Conv2DShape* shapes, int64_t count) {
  const Mode m = mode();
  if (m == Mode::kOff || count < 1) return false;
  int64_t tiles = 0;
  for (int64_t i = 0; i < count; ++i) {
    const Conv2DShape& s = shapes[i];
    if (!eligible(s) || s.in_c != shapes[0].in_c || s.out_c != shapes[0].out_c) return false;
    tiles += tile_count(s);
  }
  return m == Mode::kOn || tiles >= kMinTiles;
}

void conv2d_winograd(const Conv2DShape& s, const float* x, const WinogradFilter& f, const Epilogue& e, float* y) {
  std::vector<Part> parts{{&s, x, y, e.residual, {}, 0, 0}};
  winograd_forward(tile_set(parts), f, e);
}

void conv2d_winograd_levels(const Conv2DShape* shapes, int64_t count, const float* const* xs, const WinogradFilter& f,
                            const Epilogue& e, float* const* ys) {
  std::vector<Part> parts;
  for (int64_t i = 0; i < count; ++i) parts.push_back({&shapes[i], xs[i], ys[i], nullptr, {}, 0, 0});
  winograd_forward(tile_set(parts), f, e);
}

void conv2d_winograd_filter_gradient(const Conv2DShape& s, const float* x, const float* dy, float* dw) {
  const int64_t c_in = s.in_c, k_out = s.out_c;
  std::vector<Part> parts{{&s, x, nullptr, nullptr, {}, 0, 0}};
  const TileSet ts = tile_set(parts);
  const Tiles& tl = parts[0].tl;
  const int64_t tiles = ts.tiles;
  const Chunking ch = chunking(s, tiles);
  const int64_t chunk = ch.chunk, most = ch.most;
  // M[xi] = sum over the tiles of V[xi]^T D[xi], [C, K] each, accumulated over the chunks.
  float* const m = scratch_floats(ScratchSlot::kFilters, static_cast<size_t>(kXi * c_in * k_out));
  const std::vector<float> zeros(static_cast<size_t>(std::max(c_in, k_out)), 0.0f);
  float* const v = scratch_floats(ScratchSlot::kColumns, static_cast<size_t>(most * kXi * c_in));
  float* const d = scratch_floats(ScratchSlot::kProducts, static_cast<size_t>(most * kXi * k_out));
  for (int64_t t0 = 0; t0 < tiles; t0 += chunk) {
    const int64_t n = std::min(chunk, tiles - t0);
    parallel_for(n, 8, [&](int64_t a, int64_t b) {
      input_tiles(ts, a, b, t0, n, v, zeros.data());
      gradient_tiles(s, tl, dy, a, b, t0, n, d, zeros.data());
    });
    parallel_for(kXi, 1, [&](int64_t x0, int64_t x1) {
      for (int64_t xi = x0; xi < x1; ++xi) {
        GemmArgs g;
        g.m = c_in; g.n = k_out; g.k = n;
        g.a = v + xi * n * c_in; g.lda = c_in; g.trans_a = true;
        g.b = d + xi * n * k_out; g.ldb = k_out;
        g.c = m + xi * c_in * k_out; g.ldc = k_out;
        g.accumulate = t0 > 0;
        sgemm(g);
      }
    });
  }
  parallel_for(c_in, 8, [&](int64_t c0, int64_t c1) { filter_gradient_rows(m, c_in, k_out, c0, c1, dw); });
}

}  // namespace retinanet
