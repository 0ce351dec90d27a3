// Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions (most of RetinaNet's heads, the FPN's
// outputs and ResNet's bottleneck middles): each 6x6 input tile and each 3x3 filter are
// transformed so that a 4x4 output tile costs 36 products per channel pair instead of 144; the
// products of all tiles are 36 GEMMs on the packed GEMM. 4x fewer multiply-adds than the direct
// kernel, for the forward pass and both gradients; float32 error about ten times the direct
// kernel's (the transforms scale values by up to 8 and back): see docs/building.md.
#pragma once
#include <cstdint>

#include "conv2d.h"

namespace retinanet {

// Whether a convolution of this shape takes the Winograd path (its forward pass and filter
// gradient; its input gradient is itself such a convolution): 3x3 filter, stride 1, at least 64
// channels in and 8 out, and by default at least 24 tiles of 4x4 outputs, where the products saved
// outweigh the per-call transforms; RETINANET_WINOGRAD=1 or 0 in the environment takes it for
// every such shape or for none (winograd.cpp), so both can be measured and tested on one machine.
// `training`: the call is part of a training step (a forward pass under a gradient tape, or a
// gradient); by default only inference takes the path (see docs/building.md).
bool winograd_applies(const Conv2DShape& s, bool training);

// Where a 3x3 filter's weights are: tap t (row-major 3x3), input channel c and output channel k
// at w[t * tap + c * in + k * out]. HWIO is {w, in_c * out_c, out_c, 1}; the input gradient reads
// the same weights turned 180 degrees with the channels swapped by strides alone, no copy.
struct WinogradFilter {
  const float* w;
  int64_t tap, in, out;
};

// HWIO weights [3, 3, in_c, out_c].
inline WinogradFilter hwio_filter(const float* w, int64_t in_c, int64_t out_c) { return {w, in_c * out_c, out_c, 1}; }

// y = conv(x, f) with the epilogue, for a shape winograd_applies() accepts (any padding).
void conv2d_winograd(const Conv2DShape& s, const float* x, const WinogradFilter& f, const Epilogue& e, float* y);

// Whether one filter's convolutions of these shapes (a head's on every pyramid level, inference)
// take the Winograd path together: each a shape the path computes, the same channels, and at
// least 24 tiles in all (the filter is transformed once for all of them).
bool winograd_applies_levels(const Conv2DShape* shapes, int64_t count);

// ys[i] = conv(xs[i], f) with the epilogue (its bias and activation; no residual) for each shape,
// through one filter transform and products over all their tiles at once: the small levels'
// tiles fill out the large ones' GEMMs instead of paying a transform each.
void conv2d_winograd_levels(const Conv2DShape* shapes, int64_t count, const float* const* xs, const WinogradFilter& f,
                            const Epilogue& e, float* const* ys);

// dW (HWIO [3, 3, in_c, out_c]) of y = conv(x, w) from dy, for a shape winograd_applies()
// accepts: the adjoint of the forward transforms, dW = G^T [sum over tiles (A dY A^T) . (B^T d B)] G.
void conv2d_winograd_filter_gradient(const Conv2DShape& s, const float* x, const float* dy, float* dw);

}  // namespace retinanet
