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

// levels[l][key]: a Float32Array of `want` floats (any length when want < 0), kept alive for an
// asynchronous call.
const float* level_array(Napi::Env env, const Napi::Object& level, const char* key, int64_t want,
                         const std::string& level_name, std::vector<Napi::Object>& keep, int64_t* length = nullptr) {
  const std::string name = level_name + "." + key;
  const Napi::Value v = level.Get(key);
  const View<float> a = to_f32(env, v, name);
  if (want >= 0) require_length(env, a.length, want, name.c_str());
  if (length) *length = a.length;
  keep.push_back(v.As<Napi::Object>());
  return a.data;
}

// (levels: { logits, deltas, anchors }[], imageSizes Float64Array [B * 2],
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
    const std::string name = "levels[" + std::to_string(l) + "]";
    if (!e.IsObject()) throw type_error(env, name + ": expected { logits, deltas, anchors }");
    const Napi::Object level = e.As<Napi::Object>();
    PostprocessLevel lv;
    int64_t anchor_floats = 0;
    lv.anchors = level_array(env, level, "anchors", -1, name, a.keep, &anchor_floats);
    if (anchor_floats % 4 != 0) throw range_error(env, name + ".anchors: length must be a multiple of 4");
    const int64_t n = anchor_floats / 4;
    lv.n = n;
    lv.logits = level_array(env, level, "logits", batch * n * a.num_classes, name, a.keep);
    lv.deltas = level_array(env, level, "deltas", batch * n * 4, name, a.keep);
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
