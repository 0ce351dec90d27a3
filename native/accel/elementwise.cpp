#include "elementwise.h"

#include <algorithm>
#include <cstring>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Elements per parallel chunk (256 KiB of output). Below this a call runs on the calling thread
// alone: waking the pool costs more than these memory-bound loops (~0.15 ns per element in cache)
// gain from a second core.
constexpr int64_t kGrain = 1 << 16;

RETINANET_INLINE float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// V8's default NaN (what Math.max / Math.min and 0 * Infinity give), and JavaScript's NaN.
RETINANET_INLINE float negative_nan() { return from_bits(0xffc00000u); }
RETINANET_INLINE float positive_nan() { return from_bits(0x7fc00000u); }

template <BinaryOp Op>
RETINANET_INLINE float apply(float a, float b) {
  if (Op == BinaryOp::kAdd) return a + b;
  if (Op == BinaryOp::kSub) return a - b;
  if (Op == BinaryOp::kMul) return a * b;
  if (Op == BinaryOp::kDiv) return a / b;
  if (Op == BinaryOp::kReluGrad) return a * (b > 0.0f ? 1.0f : (b != b ? positive_nan() : 0.0f));
  // Math.max / Math.min: equal zeros combine by sign (+0 + -0 = +0; -((-a) - b) = -0 if either is -0).
  const bool nan = a != a || b != b;
  float r;
  if (Op == BinaryOp::kMax) {
    r = a > b ? a : (b > a ? b : (a == 0.0f ? a + b : a));
  } else {
    r = a < b ? a : (b < a ? b : (a == 0.0f ? -((-a) - b) : a));
  }
  return nan ? negative_nan() : r;
}

// One row segment: out[i] = a[i·sa] op b[i·sb], each stride 0 (broadcast) or 1.
template <BinaryOp Op>
RETINANET_INLINE void segment(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb,
                              float* __restrict out, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], b[i]);
  } else if (sa == 1) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], bv);
  } else if (sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(av, b[i]);
  } else {
    const float v = apply<Op>(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// The broadcast reduced to `rank` dimensions (outermost first) with a's and b's element strides
// per dimension, 0 where that side is broadcast. The innermost strides are 0 or 1.
struct Geometry {
  std::vector<int64_t> dims, sa, sb;
  int64_t size = 1;
};

Geometry collapse(const std::vector<int64_t>& a_shape, const std::vector<int64_t>& b_shape,
                  const std::vector<int64_t>& out_shape) {
  const size_t r = out_shape.size();
  const size_t pa = r - a_shape.size(), pb = r - b_shape.size();
  Geometry g;
  std::vector<int> kinds;  // 0: neither side broadcast, 1: a broadcast, 2: b broadcast
  for (size_t i = 0; i < r; ++i) {
    const int64_t o = out_shape[i];
    g.size *= o;
    if (o == 1) continue;
    const int64_t da = i < pa ? 1 : a_shape[i - pa];
    const int kind = da == 1 ? 1 : ((i < pb ? 1 : b_shape[i - pb]) == 1 ? 2 : 0);
    if (!kinds.empty() && kinds.back() == kind) {
      g.dims.back() *= o;
    } else {
      g.dims.push_back(o);
      kinds.push_back(kind);
    }
  }
  if (g.dims.empty()) {  // one element
    g.dims.push_back(1);
    kinds.push_back(0);
  }
  const size_t m = g.dims.size();
  g.sa.assign(m, 0);
  g.sb.assign(m, 0);
  int64_t run_a = 1, run_b = 1;
  for (size_t k = m; k-- > 0;) {
    if (kinds[k] != 1) {
      g.sa[k] = run_a;
      run_a *= g.dims[k];
    }
    if (kinds[k] != 2) {
      g.sb[k] = run_b;
      run_b *= g.dims[k];
    }
  }
  return g;
}

// Output elements [e0, e1): whole or partial rows of the innermost dimension, walking the outer
// dimensions as an odometer.
template <BinaryOp Op>
RETINANET_INLINE void binary_range(const Geometry& g, const float* a, const float* b, float* out, int64_t e0,
                                   int64_t e1) {
  const int last = static_cast<int>(g.dims.size()) - 1;
  const int64_t inner = g.dims[last], ia = g.sa[last], ib = g.sb[last];
  int64_t row = e0 / inner, col = e0 % inner;
  int64_t idx[64];
  int64_t oa = 0, ob = 0;
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = row % g.dims[d];
    row /= g.dims[d];
    oa += idx[d] * g.sa[d];
    ob += idx[d] * g.sb[d];
  }
  for (int64_t e = e0; e < e1;) {
    const int64_t len = std::min(inner - col, e1 - e);
    segment<Op>(a + oa + col * ia, ia, b + ob + col * ib, ib, out + e, len);
    e += len;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {
      oa += g.sa[d];
      ob += g.sb[d];
      if (++idx[d] < g.dims[d]) break;
      oa -= g.sa[d] * g.dims[d];
      ob -= g.sb[d] * g.dims[d];
      idx[d] = 0;
    }
  }
}

RETINANET_DISPATCH void binary_chunk(BinaryOp op, const Geometry& g, const float* a, const float* b, float* out,
                                     int64_t e0, int64_t e1) {
  switch (op) {
    case BinaryOp::kAdd: binary_range<BinaryOp::kAdd>(g, a, b, out, e0, e1); break;
    case BinaryOp::kSub: binary_range<BinaryOp::kSub>(g, a, b, out, e0, e1); break;
    case BinaryOp::kMul: binary_range<BinaryOp::kMul>(g, a, b, out, e0, e1); break;
    case BinaryOp::kDiv: binary_range<BinaryOp::kDiv>(g, a, b, out, e0, e1); break;
    case BinaryOp::kMax: binary_range<BinaryOp::kMax>(g, a, b, out, e0, e1); break;
    case BinaryOp::kMin: binary_range<BinaryOp::kMin>(g, a, b, out, e0, e1); break;
    case BinaryOp::kReluGrad: binary_range<BinaryOp::kReluGrad>(g, a, b, out, e0, e1); break;
  }
}

RETINANET_DISPATCH void unary_chunk(UnaryOp op, const float* __restrict x, float alpha, float* __restrict y,
                                    int64_t n) {
  if (op == UnaryOp::kRelu) {
    const float nan = negative_nan();
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = v > 0.0f ? v : (v != v ? nan : 0.0f);
    }
  } else {
    const float nan = positive_nan();
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = v > 0.0f ? 1.0f : (v != v ? nan : alpha);
    }
  }
}

}  // namespace

bool broadcast_shape(const std::vector<int64_t>& a_shape, const std::vector<int64_t>& b_shape,
                     std::vector<int64_t>* out_shape) {
  const size_t r = std::max(a_shape.size(), b_shape.size());
  const size_t pa = r - a_shape.size(), pb = r - b_shape.size();
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < pa ? 1 : a_shape[i - pa], db = i < pb ? 1 : b_shape[i - pb];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return false;
    }
  }
  *out_shape = std::move(out);
  return true;
}

Status binary_op(BinaryOp op, const std::vector<int64_t>& a_shape, const float* a,
                 const std::vector<int64_t>& b_shape, const float* b, float* out) {
  std::vector<int64_t> shape;
  if (!broadcast_shape(a_shape, b_shape, &shape)) return Status::range_error("the shapes do not broadcast");
  if (shape.size() > 64) return Status::range_error("rank above 64");
  const Geometry g = collapse(a_shape, b_shape, shape);
  if (g.size == 0) return Status::ok();
  parallel_for(g.size, kGrain, [&](int64_t e0, int64_t e1) { binary_chunk(op, g, a, b, out, e0, e1); });
  return Status::ok();
}

void unary_op(UnaryOp op, int64_t n, const float* x, float alpha, float* y) {
  parallel_for(n, kGrain, [&](int64_t e0, int64_t e1) { unary_chunk(op, x + e0, alpha, y + e0, e1 - e0); });
}

}  // namespace retinanet
