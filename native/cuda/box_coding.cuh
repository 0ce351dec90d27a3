// Box coding on the device: encode_box / decode_box of native/core/box_coding.h (one copy of
// the arithmetic; this file is compiled without FMA contraction) with exp and log rounded from
// double (see exp_rn): the CPU's bits but for rare double-rounding cases.
#pragma once
#include "../core/box_coding.h"
#include "common.cuh"

namespace retinanet {
namespace cuda {

struct DeviceBoxMath {
  __device__ static float exp(float x) { return exp_rn(x); }
  __device__ static float log(float x) { return log_rn(x); }
  __device__ static float min(float a, float b) { return fminf(a, b); }
  __device__ static float max(float a, float b) { return fmaxf(a, b); }
};

__device__ __forceinline__ void encode_box_device(const float* anchor, const float* box,
                                                  const BoxCoderWeights& w, float* out) {
  encode_box<DeviceBoxMath>(anchor, box, w, out);
}

__device__ __forceinline__ void decode_box_device(const float* anchor, const float* delta,
                                                  const BoxCoderWeights& w, float clip_h,
                                                  float clip_w, float* out) {
  decode_box<DeviceBoxMath>(anchor, delta, w, clip_h, clip_w, out);
}

}  // namespace cuda
}  // namespace retinanet
