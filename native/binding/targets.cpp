#include "../core/targets.h"

#include "convert.h"
#include "op_args.h"

namespace retinanet {
namespace binding {
namespace {

// (anchors, gtBoxes[], gtLabels[], { fgIou, bgIou, allowLowQuality, weights }, cuda?)
// -> [labels Int32Array [B*n], boxTargets Float32Array [B*n*4], matches Int32Array [B*n],
//     numForeground Float64Array [B]]
// One image is a batch of one; images share the anchors.
Napi::Value retinanet_targets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> anchors = f32(info, 0, "anchors");
  if (!info[1].IsArray() || !info[2].IsArray()) {
    throw type_error(env, "gtBoxes, gtLabels: expected arrays (one entry per image)");
  }
  auto boxes_list = info[1].As<Napi::Array>();
  auto labels_list = info[2].As<Napi::Array>();
  const Params params(info, 3, "params");
  const MatchParams mp = match_params(params);
  const BoxCoderWeights w = weights_param(params);
  if (anchors.length % 4 != 0) throw range_error(env, "anchors: length must be a multiple of 4");
  const uint32_t batch = boxes_list.Length();
  require_length(env, labels_list.Length(), batch, "gtLabels");
  const int64_t n = anchors.length / 4;
  Napi::Int32Array labels = new_i32(env, batch * n);
  Napi::Float32Array box_targets = new_f32(env, batch * n * 4);
  Napi::Int32Array matches = new_i32(env, batch * n);
  Napi::Float64Array fg = Napi::Float64Array::New(env, batch);
  const bool cuda = use_cuda(info, 4);
  std::vector<float> max_iou(cuda ? 0 : static_cast<size_t>(n));
  std::vector<const float*> gt_ptrs(batch);
  std::vector<const int32_t*> label_ptrs(batch);
  std::vector<int64_t> counts(batch);
  for (uint32_t b = 0; b < batch; ++b) {
    const std::string index = "[" + std::to_string(b) + "]";
    const View<float> gt = to_f32(env, boxes_list[b], "gtBoxes" + index);
    const View<int32_t> gl = to_i32(env, labels_list[b], "gtLabels" + index);
    if (gt.length != gl.length * 4) throw range_error(env, "gtBoxes" + index + ": expected 4 numbers per label");
    gt_ptrs[b] = gt.data;
    label_ptrs[b] = gl.data;
    counts[b] = gl.length;
  }
  if (cuda) {
    // All images in one launch per pass.
    std::vector<int64_t> num_fg(batch);
    throw_if_error(env, retinanet_targets_cuda(anchors.data, n, gt_ptrs.data(), label_ptrs.data(), counts.data(),
                                               batch, mp, w, labels.Data(), box_targets.Data(), matches.Data(),
                                               num_fg.data()));
    for (uint32_t b = 0; b < batch; ++b) fg[b] = static_cast<double>(num_fg[b]);
  } else {
    for (uint32_t b = 0; b < batch; ++b) {
      const int64_t off = static_cast<int64_t>(b) * n;
      fg[b] = static_cast<double>(retinanet_targets_cpu(
          anchors.data, n, gt_ptrs[b], label_ptrs[b], counts[b], mp, w, labels.Data() + off,
          box_targets.Data() + off * 4, matches.Data() + off, max_iou.data()));
    }
  }
  return tuple(env, {labels, box_targets, matches, fg});
}

}  // namespace

void init_targets(Napi::Env env, Napi::Object exports) {
  exports.Set("retinanetTargets", Napi::Function::New(env, retinanet_targets));
}

}  // namespace binding
}  // namespace retinanet
