#include "../sgd.h"

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// (param, grad, velocity, { learningRate, momentum, weightDecay, gradScale }, paramOut?, velocityOut?)
// -> [paramOut, velocityOut]
Napi::Value update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> p = f32(info, 0, "param");
  const View<float> g = f32(info, 1, "grad");
  const View<float> v = f32(info, 2, "velocity");
  require_length(env, g.length, p.length, "grad");
  require_length(env, v.length, p.length, "velocity");
  const Params a(info, 3, "params");
  const SgdParams s{a.number("learningRate"), a.number("momentum"), a.number("weightDecay"), a.number("gradScale")};
  Napi::Float32Array p_out = output_f32(info, 4, p.length, "paramOut");
  Napi::Float32Array v_out = output_f32(info, 5, p.length, "velocityOut");
  sgd_momentum_update(p.length, p.data, g.data, v.data, s, p_out.Data(), v_out.Data());
  return tuple(env, {p_out, v_out});
}

// (x, start) -> start + Σ x²
Napi::Value squares(const Napi::CallbackInfo& info) {
  const View<float> x = f32(info, 0, "x");
  return Napi::Number::New(info.Env(), sum_of_squares(x.length, x.data, number(info, 1, "start")));
}

}  // namespace

void init_sgd(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdMomentumUpdate", Napi::Function::New(env, update));
  exports.Set("sumOfSquares", Napi::Function::New(env, squares));
}

}  // namespace binding
}  // namespace retinanet
