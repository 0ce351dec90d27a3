#include "../reduce_sum.h"

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// (x, outer, reduce, inner) -> out [outer, inner]
Napi::Value sum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const ReduceShape s{count(info, 1, "outer"), count(info, 2, "reduce"), count(info, 3, "inner")};
  const double size = double(s.outer) * double(s.reduce) * double(s.inner);
  const double out_size = double(s.outer) * double(s.inner);
  if (!(size <= 2147483647.0) || !(out_size <= 2147483647.0)) throw range_error(env, "x: too many elements");
  require_length(env, x.length, static_cast<int64_t>(size), "x");
  Napi::Float32Array out = new_f32(env, static_cast<int64_t>(out_size));
  reduce_sum(s, x.data, out.Data());
  return out;
}

}  // namespace

void init_reduce_sum(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceSum", Napi::Function::New(env, sum));
}

}  // namespace binding
}  // namespace retinanet
