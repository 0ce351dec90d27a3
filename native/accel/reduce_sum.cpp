#include "reduce_sum.h"

#include <algorithm>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Columns summed side by side (one vector of double accumulators per block).
constexpr int64_t kLanes = 16;
// Elements read per parallel chunk, about (a sum is cheap: smaller chunks cost more to hand out
// than a second thread gains).
constexpr int64_t kChunkElements = 1 << 17;

// Rows [o0, o1) of x [rows, reduce]: one sequential double sum each (never reassociated: the
// order is tfjs's). Four rows at a time, so four independent chains hide the add latency.
RETINANET_DISPATCH void sum_rows(const float* __restrict x, int64_t reduce, float* __restrict out, int64_t o0,
                                 int64_t o1) {
  int64_t o = o0;
  for (; o + 4 <= o1; o += 4) {
    const float* r0 = x + o * reduce;
    const float* r1 = r0 + reduce;
    const float* r2 = r1 + reduce;
    const float* r3 = r2 + reduce;
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (int64_t r = 0; r < reduce; ++r) {
      a0 += static_cast<double>(r0[r]);
      a1 += static_cast<double>(r1[r]);
      a2 += static_cast<double>(r2[r]);
      a3 += static_cast<double>(r3[r]);
    }
    out[o] = static_cast<float>(a0);
    out[o + 1] = static_cast<float>(a1);
    out[o + 2] = static_cast<float>(a2);
    out[o + 3] = static_cast<float>(a3);
  }
  for (; o < o1; ++o) {
    const float* row = x + o * reduce;
    double acc = 0.0;
    for (int64_t r = 0; r < reduce; ++r) acc += static_cast<double>(row[r]);
    out[o] = static_cast<float>(acc);
  }
}

// Blocks [u0, u1) of up to kLanes adjacent columns (block u: outer index u / blocks, columns from
// (u % blocks)·kLanes): each column's sum runs over r in order, the lanes side by side.
RETINANET_DISPATCH void sum_columns(const ReduceShape& s, const float* __restrict x, float* __restrict out,
                                    int64_t u0, int64_t u1) {
  const int64_t blocks = (s.inner + kLanes - 1) / kLanes;
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t o = u / blocks, c0 = (u % blocks) * kLanes;
    const int64_t w = std::min(kLanes, s.inner - c0);
    const float* base = x + o * s.reduce * s.inner + c0;
    float* dst = out + o * s.inner + c0;
    double acc[kLanes] = {};
    if (w == kLanes) {
      for (int64_t r = 0; r < s.reduce; ++r) {
        const float* __restrict v = base + r * s.inner;
        for (int64_t j = 0; j < kLanes; ++j) acc[j] += static_cast<double>(v[j]);
      }
    } else {
      for (int64_t r = 0; r < s.reduce; ++r) {
        const float* __restrict v = base + r * s.inner;
        for (int64_t j = 0; j < w; ++j) acc[j] += static_cast<double>(v[j]);
      }
    }
    for (int64_t j = 0; j < w; ++j) dst[j] = static_cast<float>(acc[j]);
  }
}

}  // namespace

void reduce_sum(const ReduceShape& s, const float* x, float* out) {
  if (s.outer <= 0 || s.inner <= 0) return;
  if (s.inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(s.reduce, 1));
    parallel_for(s.outer, grain, [&](int64_t o0, int64_t o1) { sum_rows(x, s.reduce, out, o0, o1); });
    return;
  }
  const int64_t blocks = (s.inner + kLanes - 1) / kLanes;
  const int64_t grain = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(s.reduce * kLanes, 1));
  parallel_for(s.outer * blocks, grain, [&](int64_t u0, int64_t u1) { sum_columns(s, x, out, u0, u1); });
}

}  // namespace retinanet
