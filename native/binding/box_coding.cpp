#include "../core/box_coding.h"

#include "convert.h"
#include "op_args.h"

namespace retinanet {
namespace binding {

BoxCoderWeights weights_param(const Params& p) {
  const View<float> w = p.f32("weights");
  require_length(p.env(), w.length, 4, "weights");
  return {w.data[0], w.data[1], w.data[2], w.data[3]};
}

namespace {

// (anchors, boxes, { weights }, cuda?) -> Float32Array [n, 4]
Napi::Value encode_boxes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  const View<float> boxes = f32(info, 1, "boxes");
  const BoxCoderWeights w = weights_param(Params(info, 2, "params"));
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  require_length(env, boxes.length, anchors.length, "boxes");
  Napi::Float32Array out = new_f32(env, anchors.length);
  if (use_cuda(info, 3)) {
    throw_if_error(env, encode_boxes_cuda(anchors.data, boxes.data, anchors.length / 4, w, out.Data()));
  } else {
    encode_boxes_cpu(anchors.data, boxes.data, anchors.length / 4, w, out.Data());
  }
  return out;
}

// (anchors, deltas, { weights, clipHeight, clipWidth }, cuda?) -> Float32Array [n, 4]
Napi::Value decode_boxes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  const View<float> deltas = f32(info, 1, "deltas");
  const Params params(info, 2, "params");
  const BoxCoderWeights w = weights_param(params);
  const float clip_h = static_cast<float>(params.number("clipHeight"));
  const float clip_w = static_cast<float>(params.number("clipWidth"));
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  require_length(env, deltas.length, anchors.length, "deltas");
  Napi::Float32Array out = new_f32(env, anchors.length);
  if (use_cuda(info, 3)) {
    throw_if_error(env, decode_boxes_cuda(anchors.data, deltas.data, anchors.length / 4, w, clip_h, clip_w,
                                          out.Data()));
  } else {
    decode_boxes_cpu(anchors.data, deltas.data, anchors.length / 4, w, clip_h, clip_w, out.Data());
  }
  return out;
}

}  // namespace

void init_box_coding(Napi::Env env, Napi::Object exports) {
  exports.Set("encodeBoxes", Napi::Function::New(env, encode_boxes));
  exports.Set("decodeBoxes", Napi::Function::New(env, decode_boxes));
}

}  // namespace binding
}  // namespace retinanet
