// NHWC 2-D convolution (dilation 1, any stride and padding) on top of the packed GEMM: forward
// as an implicit-im2col GEMM with a fused epilogue (bias, residual add, activation), and both
// backward passes (input: GEMM + col2im; filter: im2col^T GEMM). Filters are HWIO
// [fh, fw, in_c, out_c], tfjs's layout.
#pragma once
#include <cstdint>

#include "gemm.h"  // Epilogue

namespace retinanet {

struct Conv2DShape {
  int64_t batch, in_h, in_w, in_c;
  int64_t filter_h, filter_w, out_c;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left;
  int64_t out_h, out_w;
};

// bfloat16: the products from inputs and weights rounded to bfloat16 (gemm_bf16.h; inference
// only, where bf16_gemm_available()).
// training: the forward pass of a training step (under a gradient tape): by default it keeps the
// direct kernels (winograd.h).
void conv2d_forward(const Conv2DShape& s, const float* x, const float* w, const Epilogue& e, float* y,
                    bool bfloat16 = false, bool training = false);
// ys[i] = conv(xs[i], w) with the epilogue (bias and activation; no residual) for each of `count`
// shapes that differ only in their batch and spatial sizes: one filter on every pyramid level, in
// one call (inference).
void conv2d_forward_levels(const Conv2DShape* shapes, int64_t count, const float* const* xs, const float* w,
                           const Epilogue& e, float* const* ys, bool bfloat16 = false);
void conv2d_backprop_input(const Conv2DShape& s, const float* dy, const float* w, float* dx);
void conv2d_backprop_filter(const Conv2DShape& s, const float* x, const float* dy, float* dw);

}  // namespace retinanet
