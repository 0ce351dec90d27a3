// R-CNN box parameterization (dx, dy, dw, dh) with weights, as torchvision's BoxCoder.
#pragma once
#include <cmath>
#include <cstdint>

#include "../runtime/dispatch.h"
#include "status.h"

namespace retinanet {

struct BoxCoderWeights {
  float wx = 1.0f, wy = 1.0f, ww = 1.0f, wh = 1.0f;
};

// Decoding clamps dw, dh at log(1000 / 16) so exp cannot overflow (torchvision's bbox_xform_clip).
constexpr float kBoxDeltaClamp = 4.135166556742356f;

// The math the coding uses. The CUDA kernels pass their own (exp / log rounded from double, so
// they give the CPU's bits), keeping one copy of the arithmetic for host and device.
struct HostBoxMath {
  static float exp(float x) { return std::exp(x); }
  static float log(float x) { return std::log(x); }
  static float min(float a, float b) { return std::fmin(a, b); }
  static float max(float a, float b) { return std::fmax(a, b); }
};

// One box relative to one anchor; both must have positive width and height.
template <class M = HostBoxMath>
RETINANET_HD inline void encode_box(const float* anchor, const float* box, const BoxCoderWeights& w,
                                    float* out) {
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
  out[2] = w.ww * M::log(bw / aw);
  out[3] = w.wh * M::log(bh / ah);
}

// clip_h / clip_w <= 0: no clipping; otherwise coordinates are clamped to [0, w] x [0, h].
template <class M = HostBoxMath>
RETINANET_HD inline void decode_box(const float* anchor, const float* delta, const BoxCoderWeights& w,
                                    float clip_h, float clip_w, float* out) {
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
  const float hw = 0.5f * (M::exp(dw) * aw);
  const float hh = 0.5f * (M::exp(dh) * ah);
  float x1 = cx - hw, y1 = cy - hh, x2 = cx + hw, y2 = cy + hh;
  if (clip_w > 0.0f && clip_h > 0.0f) {
    x1 = M::min(M::max(x1, 0.0f), clip_w);
    x2 = M::min(M::max(x2, 0.0f), clip_w);
    y1 = M::min(M::max(y1, 0.0f), clip_h);
    y2 = M::min(M::max(y2, 0.0f), clip_h);
  }
  out[0] = x1;
  out[1] = y1;
  out[2] = x2;
  out[3] = y2;
}

void encode_boxes_cpu(const float* anchors, const float* boxes, int64_t n,
                      const BoxCoderWeights& w, float* out);
void decode_boxes_cpu(const float* anchors, const float* deltas, int64_t n,
                      const BoxCoderWeights& w, float clip_h, float clip_w, float* out);
// The same on the CUDA device (host arrays in and out).
Status encode_boxes_cuda(const float* anchors, const float* boxes, int64_t n,
                         const BoxCoderWeights& w, float* out);
Status decode_boxes_cuda(const float* anchors, const float* deltas, int64_t n,
                         const BoxCoderWeights& w, float clip_h, float clip_w, float* out);

}  // namespace retinanet
