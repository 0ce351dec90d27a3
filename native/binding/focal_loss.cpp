#include "../core/focal_loss.h"

#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

// (logits, labels, { numClasses, star, useAlpha, alpha, gamma, beta, normalizer, grad }, out?, cuda?)
// -> [loss, grad | undefined]
Napi::Value focal_loss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> logits = f32(info, 0, "logits");
  const View<int32_t> labels = i32(info, 1, "labels");
  const Params a(info, 2, "params");
  const int64_t k = a.count("numClasses");
  FocalLossParams p;
  p.kind = a.boolean("star") ? FocalKind::kFocalStar : FocalKind::kFocal;
  p.use_alpha = a.boolean("useAlpha");
  p.alpha = static_cast<float>(a.number("alpha"));
  p.gamma = static_cast<float>(a.number("gamma"));
  p.beta = static_cast<float>(a.number("beta"));
  p.normalizer = a.number("normalizer");
  const bool want_grad = a.boolean("grad");
  if (k < 1) throw range_error(env, "numClasses: expected an integer >= 1");
  require_length(env, logits.length, labels.length * k, "logits");
  if (!(p.normalizer > 0)) throw range_error(env, "normalizer: expected a number > 0");
  Napi::Value grad_value = env.Undefined();
  float* grad = nullptr;
  if (want_grad) {
    Napi::Float32Array g = output_f32(info, 3, logits.length, "out");
    grad = g.Data();
    grad_value = g;
  }
  double loss = 0.0;
  if (use_cuda(info, 4)) {
    throw_if_error(env, focal_loss_cuda(logits.data, labels.data, labels.length, k, p, &loss, grad));
  } else {
    throw_if_error(env, focal_loss_cpu(logits.data, labels.data, labels.length, k, p, &loss, grad));
  }
  return tuple(env, {Napi::Number::New(env, loss), grad_value});
}

}  // namespace

void init_focal_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("focalLoss", Napi::Function::New(env, focal_loss));
}

}  // namespace binding
}  // namespace retinanet
