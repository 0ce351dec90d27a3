// Argument conversion shared by the binding functions. The TypeScript layer validates first;
// these checks only keep a direct caller of the .node file from crashing the process.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "../core/status.h"

namespace retinanet {
namespace binding {

template <typename T>
struct View {
  T* data;
  int64_t length;
};

inline Napi::Error type_error(Napi::Env env, const std::string& m) {
  return Napi::TypeError::New(env, m);
}
inline Napi::Error range_error(Napi::Env env, const std::string& m) {
  return Napi::RangeError::New(env, m);
}

template <typename T, napi_typedarray_type Kind>
View<T> typed(Napi::Env env, const Napi::Value& v, const std::string& name, const char* kind_name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Kind) {
    throw type_error(env, name + ": expected " + kind_name);
  }
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return {a.Data(), static_cast<int64_t>(a.ElementLength())};
}

inline View<float> to_f32(Napi::Env env, const Napi::Value& v, const std::string& name) {
  return typed<float, napi_float32_array>(env, v, name, "a Float32Array");
}
inline View<int32_t> to_i32(Napi::Env env, const Napi::Value& v, const std::string& name) {
  return typed<int32_t, napi_int32_array>(env, v, name, "an Int32Array");
}
inline View<double> to_f64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  return typed<double, napi_float64_array>(env, v, name, "a Float64Array");
}
inline View<float> f32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_f32(info.Env(), info[i], name);
}
inline View<int32_t> i32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_i32(info.Env(), info[i], name);
}
inline View<double> f64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_f64(info.Env(), info[i], name);
}

// A list of sizes (a shape, a convolution's geometry): a Float64Array of integers in [0, 2^31).
inline std::vector<int64_t> sizes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const View<double> a = f64(info, i, name);
  std::vector<int64_t> out(static_cast<size_t>(a.length));
  for (int64_t j = 0; j < a.length; ++j) {
    const double d = a.data[j];
    if (!(d >= 0 && d < 2147483648.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw range_error(info.Env(), std::string(name) + ": expected integers in [0, 2^31)");
    }
    out[static_cast<size_t>(j)] = static_cast<int64_t>(d);
  }
  return out;
}

// One check per kind of value, shared by the positional readers and Params.
inline double to_number(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw type_error(env, std::string(name) + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}
inline bool to_boolean(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw type_error(env, std::string(name) + ": expected a boolean");
  return v.As<Napi::Boolean>().Value();
}
inline double number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_number(info.Env(), info[i], name);
}
// A size or count: a non-negative integer that a double holds exactly.
inline int64_t to_count(Napi::Env env, double d, const char* name) {
  if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw range_error(env, std::string(name) + ": expected a non-negative integer");
  }
  return static_cast<int64_t>(d);
}
inline int64_t count(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_count(info.Env(), number(info, i, name), name);
}
inline bool boolean(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return to_boolean(info.Env(), info[i], name);
}

// An element count worked out in double (a product of sizes; exact below 2^53), as an integer once
// it fits a typed array (2^31 - 1 elements at most): a RangeError naming `name` otherwise.
inline int64_t element_count(Napi::Env env, double n, const std::string& name) {
  if (!(n <= 2147483647.0)) throw range_error(env, name + ": too many elements");
  return static_cast<int64_t>(n);
}

inline void require_length(Napi::Env env, int64_t got, int64_t want, const char* name) {
  if (got != want) {
    throw range_error(env, std::string(name) + ": expected " + std::to_string(want) +
                               " elements, got " + std::to_string(got));
  }
}

// A call's parameters other than its data, passed as one object and read by name, so that a new
// parameter cannot shift the others. Every binding call with more than its arrays and the device
// flag takes one.
class Params {
 public:
  Params(const Napi::CallbackInfo& info, size_t i, const char* name) : env_(info.Env()) {
    if (!info[i].IsObject()) throw type_error(env_, std::string(name) + ": expected an object");
    obj_ = info[i].As<Napi::Object>();
  }
  Napi::Env env() const { return env_; }
  double number(const char* key) const { return to_number(env_, obj_.Get(key), key); }
  int64_t count(const char* key) const { return to_count(env_, number(key), key); }
  bool boolean(const char* key) const { return to_boolean(env_, obj_.Get(key), key); }
  View<float> f32(const char* key) const { return to_f32(env_, obj_.Get(key), key); }
  // A Float32Array of `want` floats, or null / absent (nullptr).
  const float* optional_f32(const char* key, int64_t want) const {
    const Napi::Value v = obj_.Get(key);
    if (v.IsNull() || v.IsUndefined()) return nullptr;
    const View<float> a = to_f32(env_, v, key);
    require_length(env_, a.length, want, key);
    return a.data;
  }

 private:
  Napi::Env env_;
  Napi::Object obj_;
};

// V8 counts every ArrayBuffer's bytes as external memory and starts a garbage collection each time
// that count has grown 64 MB since the last one: ~60 full collections in a ResNet-50 training step
// at 600 px (3.9 GB of outputs), most of them while the step's live buffers (the activations, then
// the gradients) grow, when a collection frees little. The step's garbage needs no collection:
// the cpu backend frees a native output when its last tensor is disposed (lib/tfjs/release.ts).
// So while a deferral is open (a training step, detect()) native outputs are not counted, and
// those still held are counted when the last deferral closes, so the count is exact again
// between calls. Per thread: each worker thread has its own isolate.
// A deferred output released early (runtime.cpp's releaseBuffer) is counted back as it is
// detached, so that V8's own decrement leaves the count where it was: without that the count fell
// by every released output while a deferral was open and jumped back when it closed, a swing that
// started a full collection at the end of every deferred call (V8 measures growth from the lowest
// count since its last full collection).
struct ExternalMemoryDeferral {
  int depth = 0;
  int64_t deferred = 0;  // bytes not yet counted
  std::unordered_map<const void*, int64_t> outputs;  // the deferred outputs not yet released: data -> bytes
};
inline ExternalMemoryDeferral& external_memory_deferral() {
  thread_local ExternalMemoryDeferral d;
  return d;
}
inline void count_output(Napi::Env env, const void* data, int64_t bytes) {
  ExternalMemoryDeferral& d = external_memory_deferral();
  if (d.depth == 0 || bytes <= 0) return;
  int64_t total = 0;
  if (napi_adjust_external_memory(env, -bytes, &total) == napi_ok) {
    d.deferred += bytes;
    d.outputs[data] = bytes;
  }
}
// Before an output's early release: a deferred one is counted again (V8 then takes it off).
inline void uncount_release(Napi::Env env, const void* data) {
  ExternalMemoryDeferral& d = external_memory_deferral();
  const auto it = d.outputs.find(data);
  if (it == d.outputs.end()) return;
  int64_t total = 0;
  if (napi_adjust_external_memory(env, it->second, &total) == napi_ok) d.deferred -= it->second;
  d.outputs.erase(it);
}

// Outputs are ordinary V8-owned typed arrays. (Handing V8 malloc'd external memory avoids the
// zero fill but was measured slower: V8 frees it late, so every call faults in fresh pages.)
inline Napi::Float32Array new_f32(Napi::Env env, int64_t n) {
  Napi::Float32Array a = Napi::Float32Array::New(env, static_cast<size_t>(n));
  count_output(env, a.Data(), n * static_cast<int64_t>(sizeof(float)));
  return a;
}
// For outputs the kernel writes in full (test/unfilled-outputs.test.js): V8-owned node::Buffer
// memory, which is not zeroed first (on a recycled heap block, calloc's zero fill is a pass over
// the output of its own: 0.7 of a 24 MB ReLU's 2.1 ms).
inline Napi::Float32Array new_f32_unfilled(Napi::Env env, int64_t n) {
  const Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(n) * sizeof(float));
  count_output(env, b.Data(), n * static_cast<int64_t>(sizeof(float)));
  return Napi::Float32Array::New(env, static_cast<size_t>(n), b.ArrayBuffer(), b.ByteOffset());
}
inline Napi::Int32Array new_i32(Napi::Env env, int64_t n) {
  return Napi::Int32Array::New(env, static_cast<size_t>(n));
}

// An output of n floats: the caller's Float32Array at argument i if one is given there (checked
// for length), else a new one.
inline Napi::Float32Array output_f32(const Napi::CallbackInfo& info, size_t i, int64_t n, const char* name) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return new_f32(info.Env(), n);
  const View<float> v = f32(info, i, name);
  require_length(info.Env(), v.length, n, name);
  return info[i].As<Napi::Float32Array>();
}

// Several results returned as one JS array.
inline Napi::Array tuple(Napi::Env env, std::initializer_list<Napi::Value> values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  uint32_t i = 0;
  for (const Napi::Value& v : values) a.Set(i++, v);
  return a;
}

// The JS error for a failed Status: RangeError / TypeError for bad data; an Error with code
// ERR_RETINANET_CUDA for a CUDA failure (CUDA's message), ERR_RETINANET_NO_CUDA where CUDA was
// asked for and is not there.
inline Napi::Error status_error(Napi::Env env, const Status& s) {
  if (s.code == Status::kRangeError) return range_error(env, s.message);
  if (s.code == Status::kTypeError) return type_error(env, s.message);
  Napi::Error e = Napi::Error::New(env, s.message);
  if (s.code == Status::kCudaError) e.Set("code", Napi::String::New(env, "ERR_RETINANET_CUDA"));
  if (s.code == Status::kNoCuda) e.Set("code", Napi::String::New(env, "ERR_RETINANET_NO_CUDA"));
  return e;
}

inline void throw_if_error(Napi::Env env, const Status& s) {
  if (s.is_ok()) return;
  throw status_error(env, s);
}

// The device argument the TypeScript layer passes last: true runs the op's CUDA implementation
// (the TypeScript layer has already checked that one is usable).
inline bool use_cuda(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsBoolean() && info[i].As<Napi::Boolean>().Value();
}

// Each binding file registers its functions here.
void init_focal_loss(Napi::Env env, Napi::Object exports);
void init_anchors(Napi::Env env, Napi::Object exports);
void init_box_iou(Napi::Env env, Napi::Object exports);
void init_box_coding(Napi::Env env, Napi::Object exports);
void init_match(Napi::Env env, Napi::Object exports);
void init_targets(Napi::Env env, Napi::Object exports);
void init_threads(Napi::Env env, Napi::Object exports);
void init_nms(Napi::Env env, Napi::Object exports);
void init_postprocess(Napi::Env env, Napi::Object exports);
void init_conv2d(Napi::Env env, Napi::Object exports);
void init_group_norm(Napi::Env env, Napi::Object exports);
void init_max_pool(Napi::Env env, Napi::Object exports);
void init_resize_nearest(Napi::Env env, Napi::Object exports);
void init_elementwise(Napi::Env env, Napi::Object exports);
void init_reduce_sum(Napi::Env env, Napi::Object exports);
void init_sgd(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace retinanet
