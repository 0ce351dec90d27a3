#include "../core/match.h"

#include "convert.h"

namespace retinanet {
namespace binding {

MatchParams match_params_arg(const Napi::CallbackInfo& info, size_t i) {
  MatchParams p;
  p.fg_iou = static_cast<float>(number(info, i, "fgIou"));
  p.bg_iou = static_cast<float>(number(info, i + 1, "bgIou"));
  p.allow_low_quality = boolean(info, i + 2, "allowLowQuality");
  if (!(p.bg_iou <= p.fg_iou)) throw range_error(info.Env(), "bgIou: must not exceed fgIou");
  return p;
}

namespace {

// (anchors, gtBoxes, fgIou, bgIou, allowLowQuality) -> [matches Int32Array, maxIou Float32Array]
Napi::Value match_anchors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  const View<float> gt = f32(info, 1, "gtBoxes");
  const MatchParams p = match_params_arg(info, 2);
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  if (gt.length % 4 != 0) throw range_error(env, "gtBoxes: length must be a multiple of 4");
  const int64_t n = anchors.length / 4;
  Napi::Int32Array matches = new_i32(env, n);
  Napi::Float32Array max_iou = new_f32(env, n);
  match_anchors_cpu(anchors.data, n, gt.data, gt.length / 4, p, matches.Data(), max_iou.Data());
  return tuple(env, {matches, max_iou});
}

}  // namespace

void init_match(Napi::Env env, Napi::Object exports) {
  exports.Set("matchAnchors", Napi::Function::New(env, match_anchors));
}

}  // namespace binding
}  // namespace retinanet
