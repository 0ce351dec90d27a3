// Box coding on the device: the same arithmetic, in the same order, as encode_box / decode_box
// in native/core/box_coding.h (this file is compiled without FMA contraction), with exp and log
// rounded from double (see exp_rn): the CPU's bits but for rare double-rounding cases.
#pragma once
#include "../core/box_coding.h"
#include "common.cuh"

namespace retinanet {
namespace cuda {

__device__ __forceinline__ void encode_box_device(const float* anchor, const float* box,
                                                  const BoxCoderWeights& w, float* out) {
  const float aw = anchor[2] - anchor[0];
  const float ah = anchor[3] - anchor[1];
  const float ax = anchor[0] + 0.5f * aw;
  const float ay = anchor[1] + 0.5f * ah;
  const float bw = box[2] - box[0];
  const float bh = box[3] - box[1];
  const float bx = box[0] + 0.5f * bw;
  const float by = box[1] + 0.5f * bh;
  out[0] = w.wx * (bx - ax) / aw;
  out[1] = w.wy * (by - ay) / ah;
  out[2] = w.ww * log_rn(bw / aw);
  out[3] = w.wh * log_rn(bh / ah);
}

__device__ __forceinline__ void decode_box_device(const float* anchor, const float* delta,
                                                  const BoxCoderWeights& w, float clip_h,
                                                  float clip_w, float* out) {
  const float aw = anchor[2] - anchor[0];
  const float ah = anchor[3] - anchor[1];
  const float ax = anchor[0] + 0.5f * aw;
  const float ay = anchor[1] + 0.5f * ah;
  const float dx = delta[0] / w.wx;
  const float dy = delta[1] / w.wy;
  float dw = delta[2] / w.ww;
  float dh = delta[3] / w.wh;
  dw = dw < kBoxDeltaClamp ? dw : kBoxDeltaClamp;
  dh = dh < kBoxDeltaClamp ? dh : kBoxDeltaClamp;
  const float cx = dx * aw + ax;
  const float cy = dy * ah + ay;
  const float hw = 0.5f * (exp_rn(dw) * aw);
  const float hh = 0.5f * (exp_rn(dh) * ah);
  float x1 = cx - hw, y1 = cy - hh, x2 = cx + hw, y2 = cy + hh;
  if (clip_w > 0.0f && clip_h > 0.0f) {
    x1 = fminf(fmaxf(x1, 0.0f), clip_w);
    x2 = fminf(fmaxf(x2, 0.0f), clip_w);
    y1 = fminf(fmaxf(y1, 0.0f), clip_h);
    y2 = fminf(fmaxf(y2, 0.0f), clip_h);
  }
  out[0] = x1;
  out[1] = y1;
  out[2] = x2;
  out[3] = y2;
}

}  // namespace cuda
}  // namespace retinanet
