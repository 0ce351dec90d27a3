// Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions (most of RetinaNet's heads, the FPN's
// outputs and ResNet's bottleneck middles): each 4x4 input tile and each 3x3 filter are
// transformed so that a 2x2 output tile costs 16 products instead of 36; the products of all
// tiles are 16 GEMMs [tiles, C] x [C, K] on the packed GEMM. 2.25x fewer multiply-adds than the
// direct kernel, equal to it within float32 rounding (the transforms' additions reorder sums).
#pragma once
#include <cstdint>

#include "conv2d.h"

namespace retinanet {

// Whether a convolution of this shape takes the Winograd path (the forward pass, and the input
// gradient of a stride-1 3x3 convolution, itself such a convolution): 3x3 filter, stride 1, and
// at least 64 channels in and out, where the GEMMs outweigh the transforms; RETINANET_WINOGRAD=1
// or 0 in the environment turns the path on or off over its default (winograd.cpp), so both
// can be measured and tested on one machine.
bool winograd_applies(const Conv2DShape& s);

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

}  // namespace retinanet
