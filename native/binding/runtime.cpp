#include "../accel/gemm_bf16.h"
#include "../core/cuda.h"
#include "../runtime/cpu_isa.h"
#include "../runtime/memory.h"
#include "../runtime/peak.h"
#include "../runtime/thread_pool.h"
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

// 'cpu', and 'cuda' where this build has the CUDA kernels and cudaGetDeviceCount finds a device
// that runs them (asked once, at the first call).
Napi::Value devices(const Napi::CallbackInfo& info) {
  const bool cuda = cuda_availability().devices > 0;
  Napi::Array out = Napi::Array::New(info.Env(), cuda ? 2 : 1);
  out.Set(0u, Napi::String::New(info.Env(), "cpu"));
  if (cuda) out.Set(1u, Napi::String::New(info.Env(), "cuda"));
  return out;
}

// { built, devices, error }: why 'cuda' is or is not available.
Napi::Value cuda_info(const Napi::CallbackInfo& info) {
  const CudaAvailability& a = cuda_availability();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("built", Napi::Boolean::New(info.Env(), a.built));
  o.Set("devices", Napi::Number::New(info.Env(), a.devices));
  o.Set("error", Napi::String::New(info.Env(), a.error));
  return o;
}

Napi::Value fma_peak(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fma_peak_gflops());
}

// { active, supported }: the vector ISA the GEMM and the peak loop use, and the best this CPU has.
Napi::Value cpu_isa_info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("active", Napi::String::New(info.Env(), cpu_isa_name(cpu_isa())));
  o.Set("supported", Napi::String::New(info.Env(), cpu_isa_name(cpu_isa_supported())));
  o.Set("bfloat16", Napi::Boolean::New(info.Env(), bf16_gemm_available()));
  return o;
}

Napi::Value retain_memory(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), retain_freed_memory());
}

// deferExternalMemory(true) opens a deferral (see convert.h), false closes one. Returns
// [depth, V8's count of external bytes] after the call (the count is V8's own: what its collection
// heuristics see, not the ArrayBuffer bytes that process.memoryUsage() reports).
Napi::Value defer_external_memory(const Napi::CallbackInfo& info) {
  ExternalMemoryDeferral& d = external_memory_deferral();
  if (info.Length() < 1 || !info[0].IsBoolean()) throw type_error(info.Env(), "deferExternalMemory: open must be a boolean");
  int64_t change = 0;
  if (info[0].As<Napi::Boolean>().Value()) {
    ++d.depth;
  } else if (d.depth > 0 && --d.depth == 0) {
    change = d.deferred;
    d.deferred = 0;
    d.outputs.clear();
  }
  int64_t total = 0;
  napi_adjust_external_memory(info.Env(), change, &total);
  return tuple(info.Env(), {Napi::Number::New(info.Env(), d.depth), Napi::Number::New(info.Env(), static_cast<double>(total))});
}

// releaseBuffer(arrayBuffer): detaches it, so V8 frees its memory now and stops counting it,
// instead of at a later garbage collection; every view of it is left empty. Called only for
// buffers nothing else can see (the early release of lib/tfjs/release.ts). False if it was
// already detached.
Napi::Value release_buffer(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw type_error(info.Env(), "releaseBuffer: expected an ArrayBuffer");
  bool detached = false;
  if (napi_is_detached_arraybuffer(info.Env(), info[0], &detached) != napi_ok || detached) return Napi::Boolean::New(info.Env(), false);
  uncount_release(info.Env(), info[0].As<Napi::ArrayBuffer>().Data());
  return Napi::Boolean::New(info.Env(), napi_detach_arraybuffer(info.Env(), info[0]) == napi_ok);
}

}  // namespace

void init_threads(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, get_num_threads));
  exports.Set("setNumThreads", Napi::Function::New(env, set_threads));
  exports.Set("devices", Napi::Function::New(env, devices));
  exports.Set("cudaInfo", Napi::Function::New(env, cuda_info));
  exports.Set("fmaPeakGflops", Napi::Function::New(env, fma_peak));
  exports.Set("retainFreedMemory", Napi::Function::New(env, retain_memory));
  exports.Set("releaseBuffer", Napi::Function::New(env, release_buffer));
  exports.Set("deferExternalMemory", Napi::Function::New(env, defer_external_memory));
  exports.Set("cpuIsa", Napi::Function::New(env, cpu_isa_info));
}

}  // namespace binding
}  // namespace retinanet
