#include "../max_pool.h"

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// shape: Float64Array [batch, in_h, in_w, channels, filter_h, filter_w, stride_h, stride_w,
// pad_top, pad_left, out_h, out_w], integers in [0, 2^31).
Pool2DShape shape_arg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> v = sizes(info, i, "shape");
  if (v.size() != 12) throw range_error(env, "shape: expected 12 numbers");
  const Pool2DShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  if (s.filter_h < 1 || s.filter_w < 1) throw range_error(env, "shape: filter sizes must be >= 1");
  if (s.stride_h < 1 || s.stride_w < 1) throw range_error(env, "shape: strides must be >= 1");
  return s;
}

// Element counts as doubles (exact below 2^53; anything larger fails the length checks).
double x_size(const Pool2DShape& s) { return double(s.batch) * double(s.in_h) * double(s.in_w) * double(s.channels); }
double y_size(const Pool2DShape& s) { return double(s.batch) * double(s.out_h) * double(s.out_w) * double(s.channels); }

void require(Napi::Env env, int64_t got, double want, const char* name) {
  require_length(env, got, element_count(env, want, name), name);
}

// (x, shape) -> y
Napi::Value forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const Pool2DShape s = shape_arg(info, 1);
  require(env, x.length, x_size(s), "x");
  Napi::Float32Array y = new_f32_unfilled(env, element_count(env, y_size(s), "y"));
  max_pool_forward(s, x.data, y.Data());
  return y;
}

// (x, dy, shape) -> dx
Napi::Value backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const View<float> dy = f32(info, 1, "dy");
  const Pool2DShape s = shape_arg(info, 2);
  require(env, x.length, x_size(s), "x");
  require(env, dy.length, y_size(s), "dy");
  Napi::Float32Array dx = new_f32_unfilled(env, x.length);
  max_pool_backward(s, x.data, dy.data, dx.Data());
  return dx;
}

}  // namespace

void init_max_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, forward));
  exports.Set("maxPoolGrad", Napi::Function::New(env, backward));
}

}  // namespace binding
}  // namespace retinanet
