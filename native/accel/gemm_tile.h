// The GEMM micro-kernels' register tile and its store with the fused epilogue, shared by the
// float32 GEMM (gemm.cpp) and the bfloat16 one (gemm_bf16.cpp). Internal to native/accel.
#pragma once
#include <cstdint>
#include <cstring>

#include <algorithm>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"
#include "gemm.h"

namespace retinanet {
namespace gemm_detail {

// W = floats per vector register; the tile is MR rows x NR = CV·W columns of C in registers: two
// vectors wide (CV = 2) in general, one vector wide with twice the rows (CV = 1) for products
// whose n would leave most of a wide tile empty (a small model's 8 or 16 output channels).
template <int W, int CV = 2>
struct Tile {
  typedef float vec __attribute__((vector_size(W * 4)));
  static constexpr int NR = CV * W;
  static constexpr int MR = (W >= 16 ? 8 : 6) * (CV == 2 ? 1 : 2);
};

template <int W>
RETINANET_INLINE typename Tile<W>::vec load(const float* p) {
  typename Tile<W>::vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int W>
RETINANET_INLINE void store(float* p, typename Tile<W>::vec v) {
  std::memcpy(p, &v, sizeof v);
}

// The epilogue's activation, for one float or a vector of them (same expressions, lane by lane).
template <typename vec>
RETINANET_INLINE vec activate(vec v, const Epilogue& e) {
  const vec zero = vec{};
  switch (e.activation) {
    case Activation::kRelu: return v > zero ? v : zero;
    case Activation::kRelu6: {
      const vec six = zero + 6.0f;
      return v > zero ? (v < six ? v : six) : zero;
    }
    case Activation::kLeakyRelu: return v > zero ? v : v * e.leaky_alpha;
    case Activation::kLinear: break;
  }
  return v;
}

// The last k block's store with the epilogue: (C +) acc, + bias, + residual, activation. Partial
// tiles go through a buffer with zero padding, so the same vector code serves every tile.
template <int W, int CV>
RETINANET_INLINE void finish_tile(const typename Tile<W>::vec (&acc)[Tile<W, CV>::MR][CV], float* c, int64_t ldc,
                                  int64_t rows, int64_t cols, bool accumulate, const Epilogue& e, int64_t j0,
                                  int64_t c_offset) {
  using vec = typename Tile<W>::vec;
  constexpr int NR = Tile<W, CV>::NR;
  constexpr int MR = Tile<W, CV>::MR;
  alignas(64) float bias[NR] = {};
  if (e.bias) std::memcpy(bias, e.bias + j0, static_cast<size_t>(cols) * sizeof(float));
  vec b[CV];
  for (int h = 0; h < CV; ++h) b[h] = load<W>(bias + h * W);
  const float* res = e.residual ? e.residual + c_offset : nullptr;
  const bool full = rows == MR && cols == NR;
  alignas(64) float tile[NR];
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    const float* rr = res ? res + r * ldc : nullptr;
    // Loads of C and the residual, padded with zeros past `cols`.
    auto get = [&](const float* src, int h) {
      if (full) return load<W>(src + h * W);
      for (int j = 0; j < W; ++j) tile[j] = h * W + j < cols ? src[h * W + j] : 0.0f;
      return load<W>(tile);
    };
    vec v[CV];
    for (int h = 0; h < CV; ++h) {
      v[h] = acc[r][h];
      if (accumulate || rr) {
        if (accumulate) v[h] += get(cr, h);
        v[h] += b[h];
        if (rr) v[h] += get(rr, h);
        v[h] = activate(v[h], e);
      } else {
        v[h] = activate(v[h] + b[h], e);
      }
    }
    if (full) {
      for (int h = 0; h < CV; ++h) store<W>(cr + h * W, v[h]);
    } else {
      for (int h = 0; h < CV; ++h) store<W>(tile + h * W, v[h]);
      for (int64_t j = 0; j < cols; ++j) cr[j] = tile[j];
    }
  }
}

// Rows per task: about mc_max, a multiple of mr, and the tasks split evenly over the threads
// (256 rows on 2 threads: 2 x 128, not 144 + 112).
inline int64_t rows_per_task(int64_t m, int64_t mr, int64_t mc_max) {
  const int64_t threads = std::max(1, num_threads());
  const int64_t rounds = std::max<int64_t>(1, (m + threads * mc_max - 1) / (threads * mc_max));
  const int64_t tasks = rounds * threads;
  const int64_t rows = (m + tasks - 1) / tasks;
  return std::max<int64_t>(mr, (rows + mr - 1) / mr * mr);
}

}  // namespace gemm_detail
}  // namespace retinanet
