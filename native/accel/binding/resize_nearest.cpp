#include "../resize_nearest.h"

#include <string>

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// shape: Float64Array [batch, in_h, in_w, channels, out_h, out_w], integers in [0, 2^31); rows
// (out_h of them) and cols (out_w) index the input's rows and columns.
struct Args {
  ResizeShape s;
  View<int32_t> rows, cols;
};

Args args(const Napi::CallbackInfo& info, size_t shape_at, size_t rows_at) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> v = sizes(info, shape_at, "shape");
  if (v.size() != 6) throw range_error(env, "shape: expected 6 numbers");
  Args a{{v[0], v[1], v[2], v[3], v[4], v[5]}, i32(info, rows_at, "rows"), i32(info, rows_at + 1, "cols")};
  require_length(env, a.rows.length, a.s.out_h, "rows");
  require_length(env, a.cols.length, a.s.out_w, "cols");
  for (int64_t i = 0; i < a.rows.length; ++i) {
    if (a.rows.data[i] < 0 || a.rows.data[i] >= a.s.in_h) throw range_error(env, "rows: expected indices in [0, shape[1])");
  }
  for (int64_t j = 0; j < a.cols.length; ++j) {
    if (a.cols.data[j] < 0 || a.cols.data[j] >= a.s.in_w) throw range_error(env, "cols: expected indices in [0, shape[2])");
  }
  return a;
}

// Forward: (x, shape, rows, cols) -> y. Gradient: (dy, shape, rows, cols) -> dx. Each reads one
// side of the resize and writes the other.
template <bool kGradient>
Napi::Value run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* src_name = kGradient ? "dy" : "x";
  const View<float> src = f32(info, 0, src_name);
  const Args a = args(info, 1, 2);
  const ResizeShape& s = a.s;
  const double pixels = double(s.batch) * double(s.channels);
  const int64_t in = element_count(env, pixels * double(s.in_h) * double(s.in_w), kGradient ? "dx" : "x");
  const int64_t out = element_count(env, pixels * double(s.out_h) * double(s.out_w), kGradient ? "dy" : "y");
  require_length(env, src.length, kGradient ? out : in, src_name);
  Napi::Float32Array dst = new_f32_unfilled(env, kGradient ? in : out);
  if (kGradient) {
    resize_nearest_backward(s, a.rows.data, a.cols.data, src.data, dst.Data());
  } else {
    resize_nearest_forward(s, a.rows.data, a.cols.data, src.data, dst.Data());
  }
  return dst;
}

}  // namespace

void init_resize_nearest(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeNearest", Napi::Function::New(env, run<false>));
  exports.Set("resizeNearestGrad", Napi::Function::New(env, run<true>));
}

}  // namespace binding
}  // namespace retinanet
