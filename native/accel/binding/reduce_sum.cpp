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
  const int64_t size = element_count(env, double(s.outer) * double(s.reduce) * double(s.inner), "x");
  const int64_t out_size = element_count(env, double(s.outer) * double(s.inner), "x");
  require_length(env, x.length, size, "x");
  Napi::Float32Array out = new_f32(env, out_size);
  reduce_sum(s, x.data, out.Data());
  return out;
}

}  // namespace

void init_reduce_sum(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceSum", Napi::Function::New(env, sum));
}

}  // namespace binding
}  // namespace retinanet
