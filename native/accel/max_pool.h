// 2-D max pooling on NHWC float32 tensors (any window, stride and padding; dilation 1) and its
// gradient, with tfjs's cpu semantics: a window's maximum is its first value, in row-major scan
// order, that is greater than every value before it (so NaN never wins and padded cells, which
// are skipped, act as -Infinity); a window with no such value gives -Infinity and passes no
// gradient. The gradient routes each dy to its window's maximum and sums, per input cell, in
// double over the windows in (out_y, out_x) order, then rounds once: the bits tfjs's own
// MaxPoolGrad gives.
#pragma once
#include <cstdint>

namespace retinanet {

struct Pool2DShape {
  int64_t batch, in_h, in_w, channels;
  int64_t filter_h, filter_w;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left;  // cells of padding before row 0 / column 0 (the rest follows from out_h, out_w)
  int64_t out_h, out_w;
};

// y [batch, out_h, out_w, channels] = window maxima of x [batch, in_h, in_w, channels].
void max_pool_forward(const Pool2DShape& s, const float* x, float* y);
// dx [batch, in_h, in_w, channels] from x and dy [batch, out_h, out_w, channels].
void max_pool_backward(const Pool2DShape& s, const float* x, const float* dy, float* dx);

}  // namespace retinanet
