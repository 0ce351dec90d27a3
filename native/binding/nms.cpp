#include "../core/nms.h"

#include <memory>

#include "async.h"
#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

struct NmsArgs {
  View<float> boxes, scores;
  const int32_t* groups = nullptr;
  int64_t n = 0;
  NmsParams params;
  bool cuda = false;
  std::vector<Napi::Object> keep;
};

Status run_nms(const NmsArgs& a, std::vector<int32_t>& keep) {
  if (a.cuda) return batched_nms_cuda(a.boxes.data, a.scores.data, a.groups, a.n, a.params, keep);
  keep = batched_nms_cpu(a.boxes.data, a.scores.data, a.groups, a.n, a.params);
  return Status::ok();
}

// (boxes, scores, groups | null, { iouThreshold, maxOutput (-1: all), useScoreThreshold, scoreThreshold },
//  cuda?)
NmsArgs nms_args(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NmsArgs a;
  a.boxes = f32(info, 0, "boxes");
  a.scores = f32(info, 1, "scores");
  a.n = a.scores.length;
  require_length(env, a.boxes.length, a.n * 4, "boxes");
  a.keep = {info[0].As<Napi::Object>(), info[1].As<Napi::Object>()};
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    const View<int32_t> g = i32(info, 2, "groupIds");
    require_length(env, g.length, a.n, "groupIds");
    a.groups = g.data;
    a.keep.push_back(info[2].As<Napi::Object>());
  }
  const Params p(info, 3, "params");
  a.params.iou_threshold = p.number("iouThreshold");
  a.params.max_output = static_cast<int64_t>(p.number("maxOutput"));
  a.params.use_score_threshold = p.boolean("useScoreThreshold");
  a.params.score_threshold = static_cast<float>(p.number("scoreThreshold"));
  a.cuda = use_cuda(info, 4);
  return a;
}

Napi::Value nms_sync(const Napi::CallbackInfo& info) {
  const NmsArgs a = nms_args(info);
  std::vector<int32_t> keep;
  throw_if_error(info.Env(), run_nms(a, keep));
  return to_typed<Napi::Int32Array>(info.Env(), keep);
}

Napi::Value nms_async(const Napi::CallbackInfo& info) {
  const NmsArgs a = nms_args(info);
  auto keep = std::make_shared<std::vector<int32_t>>();
  return queue_work(
      info.Env(),
      [a, keep]() { return run_nms(a, *keep); },
      [keep](Napi::Env env) { return to_typed<Napi::Int32Array>(env, *keep); }, a.keep);
}

}  // namespace

void init_nms(Napi::Env env, Napi::Object exports) {
  exports.Set("batchedNms", Napi::Function::New(env, nms_sync));
  exports.Set("batchedNmsAsync", Napi::Function::New(env, nms_async));
}

}  // namespace binding
}  // namespace retinanet
