#include "../group_norm.h"

#include <cmath>

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// Reads { batch, spatial (height·width), channels, groups } from the object at info[i] and checks them.
GroupNormShape shape_args(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  const Params p(info, i, "shape");
  const GroupNormShape s{p.count("batch"), p.count("spatial"), p.count("channels"), p.count("groups")};
  if (s.channels < 1) throw range_error(env, "channels: expected at least 1");
  if (s.groups < 1 || s.channels % s.groups != 0) throw range_error(env, "groups: must be >= 1 and divide channels");
  element_count(env, double(s.batch) * double(s.spatial) * double(s.channels), "x");
  return s;
}

int64_t x_size(const GroupNormShape& s) { return s.batch * s.spatial * s.channels; }

// (x, gamma, beta, { batch, spatial, channels, groups }, eps) -> [y, mean, rstd]
Napi::Value forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const View<float> gamma = f32(info, 1, "gamma");
  const View<float> beta = f32(info, 2, "beta");
  const GroupNormShape s = shape_args(info, 3);
  const double eps = number(info, 4, "eps");
  if (!(eps > 0 && std::isfinite(eps))) throw range_error(env, "eps: expected a finite number > 0");
  require_length(env, x.length, x_size(s), "x");
  require_length(env, gamma.length, s.channels, "gamma");
  require_length(env, beta.length, s.channels, "beta");
  Napi::Float32Array y = new_f32_unfilled(env, x.length);
  Napi::Float32Array mean = new_f32(env, s.batch * s.groups);
  Napi::Float32Array rstd = new_f32(env, s.batch * s.groups);
  group_norm_forward(s, x.data, gamma.data, beta.data, eps, y.Data(), mean.Data(), rstd.Data());
  return tuple(env, {y, mean, rstd});
}

// (dy, x, mean, rstd, gamma, { batch, spatial, channels, groups }) -> [dx, dgamma, dbeta]
Napi::Value backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> dy = f32(info, 0, "dy");
  const View<float> x = f32(info, 1, "x");
  const View<float> mean = f32(info, 2, "mean");
  const View<float> rstd = f32(info, 3, "rstd");
  const View<float> gamma = f32(info, 4, "gamma");
  const GroupNormShape s = shape_args(info, 5);
  require_length(env, dy.length, x_size(s), "dy");
  require_length(env, x.length, x_size(s), "x");
  require_length(env, mean.length, s.batch * s.groups, "mean");
  require_length(env, rstd.length, s.batch * s.groups, "rstd");
  require_length(env, gamma.length, s.channels, "gamma");
  Napi::Float32Array dx = new_f32_unfilled(env, x.length);
  Napi::Float32Array dgamma = new_f32(env, s.channels);
  Napi::Float32Array dbeta = new_f32(env, s.channels);
  group_norm_backward(s, dy.data, x.data, mean.data, rstd.data, gamma.data, dx.Data(), dgamma.Data(), dbeta.Data());
  return tuple(env, {dx, dgamma, dbeta});
}

}  // namespace

void init_group_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("groupNorm", Napi::Function::New(env, forward));
  exports.Set("groupNormBackward", Napi::Function::New(env, backward));
}

}  // namespace binding
}  // namespace retinanet
