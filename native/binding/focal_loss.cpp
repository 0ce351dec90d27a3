#include "../core/focal_loss.h"

#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

// (logits, labels, numClasses, star, useAlpha, alpha, gamma, beta, normalizer, wantGrad, out?, cuda?)
// -> [loss, grad | undefined]
Napi::Value focal_loss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> logits = f32(info, 0, "logits");
  const View<int32_t> labels = i32(info, 1, "labels");
  const int64_t k = count(info, 2, "numClasses");
  FocalLossParams p;
  p.kind = boolean(info, 3, "star") ? FocalKind::kFocalStar : FocalKind::kFocal;
  p.use_alpha = boolean(info, 4, "useAlpha");
  p.alpha = static_cast<float>(number(info, 5, "alpha"));
  p.gamma = static_cast<float>(number(info, 6, "gamma"));
  p.beta = static_cast<float>(number(info, 7, "beta"));
  p.normalizer = number(info, 8, "normalizer");
  const bool want_grad = boolean(info, 9, "grad");
  if (k < 1) throw range_error(env, "numClasses: expected an integer >= 1");
  require_length(env, logits.length, labels.length * k, "logits");
  if (!(p.normalizer > 0)) throw range_error(env, "normalizer: expected a number > 0");
  Napi::Value grad_value = env.Undefined();
  float* grad = nullptr;
  if (want_grad) {
    Napi::Float32Array g = output_f32(info, 10, logits.length, "out");
    grad = g.Data();
    grad_value = g;
  }
  double loss = 0.0;
  if (use_cuda(info, 11)) {
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
