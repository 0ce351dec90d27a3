#include "../core/postprocess.h"

#include <memory>

#include "async.h"
#include "convert.h"
#include "op_args.h"

namespace retinanet {
namespace binding {
namespace {

struct PostprocessArgs {
  std::vector<PostprocessLevel> levels;
  int64_t num_classes = 0;
  std::vector<std::pair<float, float>> sizes;
  PostprocessParams params;
  bool cuda = false;
  std::vector<Napi::Object> keep;
};

Status run_postprocess(const PostprocessArgs& a, std::vector<Detections>& dets) {
  if (a.cuda) return postprocess_cuda(a.levels, a.num_classes, a.sizes, a.params, dets);
  return postprocess_cpu(a.levels, a.num_classes, a.sizes, a.params, dets);
}

const float* level_array(Napi::Env env, const Napi::Array& entry, uint32_t slot, int64_t want,
                         const std::string& name, std::vector<Napi::Object>& keep) {
  Napi::Value v = entry[slot];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw type_error(env, name + ": expected a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  if (want >= 0) require_length(env, static_cast<int64_t>(a.ElementLength()), want, name.c_str());
  keep.push_back(a);
  return a.Data();
}

// (levels: [logits, deltas, anchors][], imageSizes Float64Array [B * 2],
//  { numClasses, scoreThreshold, topKPerLevel, nmsThreshold, maxDetections, weights }, cuda?)
PostprocessArgs postprocess_args(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PostprocessArgs a;
  if (!info[0].IsArray()) throw type_error(env, "levels: expected an array");
  const View<double> sizes = f64(info, 1, "imageSizes");
  const Params params(info, 2, "params");
  a.num_classes = params.count("numClasses");
  if (a.num_classes < 1) throw range_error(env, "numClasses: expected an integer >= 1");
  const int64_t batch = sizes.length / 2;
  const double* hw = sizes.data;
  for (int64_t b = 0; b < batch; ++b) {
    a.sizes.emplace_back(static_cast<float>(hw[2 * b]), static_cast<float>(hw[2 * b + 1]));
  }
  auto levels = info[0].As<Napi::Array>();
  for (uint32_t l = 0; l < levels.Length(); ++l) {
    Napi::Value e = levels[l];
    if (!e.IsArray()) throw type_error(env, "levels: expected [logits, deltas, anchors] entries");
    auto entry = e.As<Napi::Array>();
    const std::string name = "levels[" + std::to_string(l) + "]";
    Napi::Value anchors_value = entry[2u];
    if (!anchors_value.IsTypedArray()) throw type_error(env, name + ".anchors: expected a Float32Array");
    const int64_t n = static_cast<int64_t>(anchors_value.As<Napi::TypedArray>().ElementLength()) / 4;
    PostprocessLevel lv;
    lv.n = n;
    lv.anchors = level_array(env, entry, 2, n * 4, name + ".anchors", a.keep);
    lv.logits = level_array(env, entry, 0, batch * n * a.num_classes, name + ".logits", a.keep);
    lv.deltas = level_array(env, entry, 1, batch * n * 4, name + ".deltas", a.keep);
    a.levels.push_back(lv);
  }
  a.params.score_threshold = static_cast<float>(params.number("scoreThreshold"));
  a.params.top_k = params.count("topKPerLevel");
  a.params.nms_threshold = params.number("nmsThreshold");
  a.params.max_detections = params.count("maxDetections");
  a.params.weights = weights_param(params);
  a.cuda = use_cuda(info, 3);
  return a;
}

Napi::Value detections_value(Napi::Env env, const std::vector<Detections>& dets) {
  Napi::Array out = Napi::Array::New(env, dets.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    out.Set(static_cast<uint32_t>(i), tuple(env, {to_typed<Napi::Float32Array>(env, dets[i].boxes),
                                                  to_typed<Napi::Float32Array>(env, dets[i].scores),
                                                  to_typed<Napi::Int32Array>(env, dets[i].classes)}));
  }
  return out;
}

Napi::Value postprocess_sync(const Napi::CallbackInfo& info) {
  const PostprocessArgs a = postprocess_args(info);
  std::vector<Detections> dets;
  throw_if_error(info.Env(), run_postprocess(a, dets));
  return detections_value(info.Env(), dets);
}

Napi::Value postprocess_async(const Napi::CallbackInfo& info) {
  const PostprocessArgs a = postprocess_args(info);
  auto dets = std::make_shared<std::vector<Detections>>();
  return queue_work(
      info.Env(), [a, dets]() { return run_postprocess(a, *dets); },
      [dets](Napi::Env env) { return detections_value(env, *dets); }, a.keep);
}

}  // namespace

void init_postprocess(Napi::Env env, Napi::Object exports) {
  exports.Set("postprocess", Napi::Function::New(env, postprocess_sync));
  exports.Set("postprocessAsync", Napi::Function::New(env, postprocess_async));
}

}  // namespace binding
}  // namespace retinanet
