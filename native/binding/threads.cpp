#include "../core/peak.h"
#include "../core/thread_pool.h"
#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

Napi::Value get_num_threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

Napi::Value set_threads(const Napi::CallbackInfo& info) {
  set_num_threads(static_cast<int>(count(info, 0, "threads")));
  return info.Env().Undefined();
}

Napi::Value devices(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), 1);
  out.Set(0u, Napi::String::New(info.Env(), "cpu"));
  return out;
}

Napi::Value fma_peak(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fma_peak_gflops());
}

}  // namespace

void init_threads(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, get_num_threads));
  exports.Set("setNumThreads", Napi::Function::New(env, set_threads));
  exports.Set("devices", Napi::Function::New(env, devices));
  exports.Set("fmaPeakGflops", Napi::Function::New(env, fma_peak));
}

}  // namespace binding
}  // namespace retinanet
