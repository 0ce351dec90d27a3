// Elementwise float32 kernels with tfjs's cpu semantics, bit for bit (tfjs-backend-cpu 4.22's
// Add, Sub, Multiply, RealDiv, Maximum, Minimum, Relu and Step).
//
// tfjs computes each element in double and stores it into a Float32Array: for + - * / that is
// one rounding of the exact result, the same bits as one IEEE float32 operation (double has
// more than 2·24 + 2 bits), which is what these loops do (no FMA contraction, no fast-math).
// The rest follows JavaScript:
//  - max / min (Math.max / Math.min): NaN if either side is NaN, max(+0, -0) = +0, min = -0;
//    the NaN V8 gives there is the default NaN, 0xffc00000 (negative), written here too;
//  - relu(x) = Math.max(0, x): +0 for x <= 0 (so -0 gives +0), NaN gives 0xffc00000;
//  - step(x) = x > 0 ? 1 : alpha (alpha rounded to float32), NaN gives 0x7fc00000 (JS's NaN);
//  - + - * / with one NaN operand pass its bits on (quietened), as V8's double arithmetic does;
//    with two NaN operands either one's bits may come out (V8 itself picks by register order).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/status.h"

namespace retinanet {

// kReluGrad: a · step(b), ReLU's gradient from the output (b = relu(x), a = dy), with the bits
// tfjs's mul(dy, step(y)) gives (a · 1, a · 0 = ±0, NaN where b or a · 0 is NaN): one pass where
// tfjs makes two.
enum class BinaryOp : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kReluGrad = 6 };
enum class UnaryOp : int { kRelu = 0, kStep = 1 };

// The broadcast shape of two shapes under tfjs's (NumPy's) rules: shapes right-aligned, a
// dimension of 1 stretches to the other's; false when some pair of dimensions differs with
// neither being 1.
bool broadcast_shape(const std::vector<int64_t>& a_shape, const std::vector<int64_t>& b_shape,
                     std::vector<int64_t>* out_shape);

// out (the broadcast shape, row-major) = a op b. Any broadcast: the shapes are reduced to a few
// dimensions first (size-1 dimensions dropped, neighbours broadcast alike merged), so equal
// shapes, a scalar side and a per-channel side all run as one contiguous vector loop per row.
// Range error when the shapes do not broadcast (nothing is written).
Status binary_op(BinaryOp op, const std::vector<int64_t>& a_shape, const float* a,
                 const std::vector<int64_t>& b_shape, const float* b, float* out);

// y[i] = op(x[i]) for i < n; alpha is step's value for x <= 0 (unused by relu).
void unary_op(UnaryOp op, int64_t n, const float* x, float alpha, float* y);

}  // namespace retinanet
