// Nearest-neighbour resizing of NHWC float32 images (the FPN's top-down upsampling) and its
// gradient, with the source row and column of every output row and column given by the caller
// (lib/accel/kernels/resize-nearest.ts works them out exactly as tfjs's cpu kernels do, so the
// index rules live in one place and the bits are tfjs's).
#pragma once
#include <cstdint>

namespace retinanet {

struct ResizeShape {
  int64_t batch, in_h, in_w, channels, out_h, out_w;
};

// y [batch, out_h, out_w, channels]: y[b, i, j] = x[b, rows[i], cols[j]]; rows in [0, in_h),
// cols in [0, in_w).
void resize_nearest_forward(const ResizeShape& s, const int32_t* rows, const int32_t* cols, const float* x, float* y);

// dx [batch, in_h, in_w, channels]: each dx cell the sum of the dy cells that copied it, added in
// double in row-major (i, j) order and rounded once (what tfjs's ResizeNearestNeighborGrad does).
void resize_nearest_backward(const ResizeShape& s, const int32_t* rows, const int32_t* cols, const float* dy,
                             float* dx);

}  // namespace retinanet
