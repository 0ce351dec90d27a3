// Sum over one contiguous run of axes of a float32 tensor, seen as [outer, reduce, inner]:
// out[o, i] = Σ_r x[o, r, i]. Each sum runs in double, r = 0, 1, … in order, from +0, and is
// rounded to float32 once: exactly what tfjs's cpu Sum kernel computes (it transposes the
// reduced axes innermost and adds them up in a JavaScript number), so the bits are tfjs's, and
// the same whatever the thread count (work is split between outputs, never inside one sum).
// Leading axes (bias gradients: [B·H·W, C] → [C]) are outer = 1; trailing axes (row sums, or
// everything) are inner = 1. One caveat: a sum that meets several different NaNs (say a NaN
// input and Infinity + -Infinity) is NaN, but which NaN's bits come out is unspecified: V8
// itself picks by the operand order its compiled code happens to use.
#pragma once
#include <cstdint>

namespace retinanet {

struct ReduceShape {
  int64_t outer, reduce, inner;
};

// out [outer, inner] from x [outer, reduce, inner]; reduce = 0 gives zeros.
void reduce_sum(const ReduceShape& s, const float* x, float* out);

}  // namespace retinanet
