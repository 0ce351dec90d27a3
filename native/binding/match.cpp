#include "../core/match.h"

#include <vector>

#include "convert.h"
#include "op_args.h"

namespace retinanet {
namespace binding {

MatchParams match_params(const Params& a) {
  MatchParams p;
  p.fg_iou = static_cast<float>(a.number("fgIou"));
  p.bg_iou = static_cast<float>(a.number("bgIou"));
  p.allow_low_quality = a.boolean("allowLowQuality");
  if (!(p.bg_iou <= p.fg_iou)) throw range_error(a.env(), "bgIou: must not exceed fgIou");
  return p;
}

namespace {

// (anchors, gtBoxes, { fgIou, bgIou, allowLowQuality }, cuda?) -> [matches Int32Array, maxIou Float32Array]
Napi::Value match_anchors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  const View<float> gt = f32(info, 1, "gtBoxes");
  const MatchParams p = match_params(Params(info, 2, "params"));
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  if (gt.length % 4 != 0) throw range_error(env, "gtBoxes: length must be a multiple of 4");
  const int64_t n = anchors.length / 4;
  Napi::Int32Array matches = new_i32(env, n);
  Napi::Float32Array max_iou = new_f32(env, n);
  if (use_cuda(info, 3)) {
    const float* g = gt.data;
    const int64_t m = gt.length / 4;
    throw_if_error(env, match_anchors_cuda(anchors.data, n, &g, &m, 1, p, matches.Data(), max_iou.Data()));
  } else {
    match_anchors_cpu(anchors.data, n, gt.data, gt.length / 4, p, matches.Data(), max_iou.Data());
  }
  return tuple(env, {matches, max_iou});
}

// (anchors, gtBoxes[], { fgIou, bgIou, allowLowQuality }, cuda?) -> [matches [B*n], maxIou [B*n]]:
// images share the anchors; on CUDA all images run in one launch per pass.
Napi::Value match_anchors_batch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  if (!info[1].IsArray()) throw type_error(env, "gtBoxes: expected an array (one entry per image)");
  auto list = info[1].As<Napi::Array>();
  const MatchParams p = match_params(Params(info, 2, "params"));
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  const uint32_t batch = list.Length();
  std::vector<const float*> gt(batch);
  std::vector<int64_t> m(batch);
  for (uint32_t b = 0; b < batch; ++b) {
    const std::string name = "gtBoxes[" + std::to_string(b) + "]";
    const View<float> a = to_f32(env, list[b], name);
    if (a.length % 4 != 0) throw range_error(env, name + ": length must be a multiple of 4");
    gt[b] = a.data;
    m[b] = a.length / 4;
  }
  const int64_t n = anchors.length / 4;
  Napi::Int32Array matches = new_i32(env, batch * n);
  Napi::Float32Array max_iou = new_f32(env, batch * n);
  if (use_cuda(info, 3)) {
    throw_if_error(env, match_anchors_cuda(anchors.data, n, gt.data(), m.data(), batch, p, matches.Data(),
                                           max_iou.Data()));
  } else {
    for (uint32_t b = 0; b < batch; ++b) {
      match_anchors_cpu(anchors.data, n, gt[b], m[b], p, matches.Data() + b * n, max_iou.Data() + b * n);
    }
  }
  return tuple(env, {matches, max_iou});
}

}  // namespace

void init_match(Napi::Env env, Napi::Object exports) {
  exports.Set("matchAnchors", Napi::Function::New(env, match_anchors));
  exports.Set("matchAnchorsBatch", Napi::Function::New(env, match_anchors_batch));
}

}  // namespace binding
}  // namespace retinanet
