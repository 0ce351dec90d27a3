#include "../conv2d.h"

#include <algorithm>
#include <vector>

#include "../gemm.h"
#include "../gemm_bf16.h"
#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// shape: Float64Array [batch, in_h, in_w, in_c, filter_h, filter_w, out_c, stride_h, stride_w,
// pad_top, pad_left, out_h, out_w]
Conv2DShape to_shape(Napi::Env env, const int64_t* v) {
  const Conv2DShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
  if (s.stride_h < 1 || s.stride_w < 1) throw range_error(env, "shape: strides must be >= 1");
  return s;
}
Conv2DShape shape_arg(const Napi::CallbackInfo& info, size_t i) {
  const std::vector<int64_t> v = sizes(info, i, "shape");
  if (v.size() != 13) throw range_error(info.Env(), "shape: expected 13 numbers");
  return to_shape(info.Env(), v.data());
}

int64_t x_size(const Conv2DShape& s) { return s.batch * s.in_h * s.in_w * s.in_c; }
int64_t w_size(const Conv2DShape& s) { return s.filter_h * s.filter_w * s.in_c * s.out_c; }
int64_t y_size(const Conv2DShape& s) { return s.batch * s.out_h * s.out_w * s.out_c; }

// { bias: Float32Array [cols] | null, activation: code, leakyreluAlpha, residual: Float32Array | null }
Epilogue epilogue_arg(const Napi::CallbackInfo& info, size_t i, int64_t cols, int64_t out_size) {
  const Params p(info, i, "epilogue");
  Epilogue e;
  e.bias = p.optional_f32("bias", cols);
  const int64_t act = p.count("activation");
  if (act > 3) throw range_error(info.Env(), "activation: unknown code");
  e.activation = static_cast<Activation>(act);
  e.leaky_alpha = static_cast<float>(p.number("leakyreluAlpha"));
  e.residual = p.optional_f32("residual", out_size);
  return e;
}

// (x, w, shape, epilogue + { bfloat16, training }) -> y
Napi::Value forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const View<float> w = f32(info, 1, "filter");
  const Conv2DShape s = shape_arg(info, 2);
  require_length(env, x.length, x_size(s), "x");
  require_length(env, w.length, w_size(s), "filter");
  const Epilogue e = epilogue_arg(info, 3, s.out_c, y_size(s));
  const Params p(info, 3, "epilogue");
  const bool bf16 = p.boolean("bfloat16");
  const bool training = p.boolean("training");
  if (bf16 && !bf16_gemm_available()) {
    throw range_error(env, "bfloat16: this CPU has no AVX512-BF16 in use (cpuIsa().bfloat16 is false)");
  }
  Napi::Float32Array y = new_f32_unfilled(env, y_size(s));
  conv2d_forward(s, x.data, w.data, e, y.Data(), bf16, training);
  return y;
}

// (xs: Float32Array[], w, shapes: Float64Array of 13 numbers per input, epilogue + { bfloat16 })
// -> ys: one filter on several inputs (a head's convolution on every pyramid level). The shapes
// may differ only in their batch and spatial sizes.
Napi::Value forward_levels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw type_error(env, "xs: expected an array of Float32Arrays");
  const Napi::Array list = info[0].As<Napi::Array>();
  const View<float> w = f32(info, 1, "filter");
  const std::vector<int64_t> v = sizes(info, 2, "shapes");
  const int64_t count = static_cast<int64_t>(list.Length());
  if (count < 1 || static_cast<int64_t>(v.size()) != 13 * count) throw range_error(env, "shapes: expected 13 numbers per input");
  std::vector<Conv2DShape> shapes;
  for (int64_t i = 0; i < count; ++i) {
    shapes.push_back(to_shape(env, v.data() + 13 * i));
    const Conv2DShape& s = shapes.back();
    const Conv2DShape& f = shapes[0];
    // One filter for all: the binding's guard against reading past it (lib/accel/ops checks first).
    if (s.in_c != f.in_c || s.out_c != f.out_c || s.filter_h != f.filter_h || s.filter_w != f.filter_w ||
        s.stride_h != f.stride_h || s.stride_w != f.stride_w || s.pad_top != f.pad_top || s.pad_left != f.pad_left) {
      throw range_error(env, "shapes: the inputs may differ only in their batch and spatial sizes");
    }
  }
  require_length(env, w.length, w_size(shapes[0]), "filter");
  const Epilogue e = epilogue_arg(info, 3, shapes[0].out_c, 0);
  if (e.residual) throw range_error(env, "epilogue: no residual for several inputs");
  const bool bf16 = Params(info, 3, "epilogue").boolean("bfloat16");
  if (bf16 && !bf16_gemm_available()) {
    throw range_error(env, "bfloat16: this CPU has no AVX512-BF16 in use (cpuIsa().bfloat16 is false)");
  }
  std::vector<const float*> xs;
  std::vector<float*> ys;
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const View<float> x = to_f32(env, list.Get(static_cast<uint32_t>(i)), "xs[" + std::to_string(i) + "]");
    require_length(env, x.length, x_size(shapes[i]), "xs[i]");
    Napi::Float32Array y = new_f32_unfilled(env, y_size(shapes[i]));
    xs.push_back(x.data);
    ys.push_back(y.Data());
    out.Set(static_cast<uint32_t>(i), y);
  }
  conv2d_forward_levels(shapes.data(), count, xs.data(), w.data, e, ys.data(), bf16);
  return out;
}

// (dy, w, shape) -> dx
Napi::Value backprop_input(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> dy = f32(info, 0, "dy");
  const View<float> w = f32(info, 1, "filter");
  const Conv2DShape s = shape_arg(info, 2);
  require_length(env, dy.length, y_size(s), "dy");
  require_length(env, w.length, w_size(s), "filter");
  Napi::Float32Array dx = new_f32_unfilled(env, x_size(s));
  conv2d_backprop_input(s, dy.data, w.data, dx.Data());
  return dx;
}

// (x, dy, shape) -> dw
Napi::Value backprop_filter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> x = f32(info, 0, "x");
  const View<float> dy = f32(info, 1, "dy");
  const Conv2DShape s = shape_arg(info, 2);
  require_length(env, x.length, x_size(s), "x");
  require_length(env, dy.length, y_size(s), "dy");
  Napi::Float32Array dw = new_f32_unfilled(env, w_size(s));
  conv2d_backprop_filter(s, x.data, dy.data, dw.Data());
  return dw;
}

// (a, b, { batchA, batchB, m, n, k, transposeA, transposeB }, epilogue)
// -> c [max(batch), m, n]
// A batch of 1 broadcasts against the other's batch.
Napi::Value batch_matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> a = f32(info, 0, "a");
  const View<float> b = f32(info, 1, "b");
  const Params p(info, 2, "shape");
  const int64_t ba = p.count("batchA"), bb = p.count("batchB");
  const int64_t m = p.count("m"), n = p.count("n"), k = p.count("k");
  const bool ta = p.boolean("transposeA"), tb = p.boolean("transposeB");
  if (ba != bb && ba != 1 && bb != 1) throw range_error(env, "batch sizes must match or be 1");
  require_length(env, a.length, ba * m * k, "a");
  require_length(env, b.length, bb * k * n, "b");
  const int64_t batch = std::max(ba, bb);
  const Epilogue e = epilogue_arg(info, 3, n, batch * m * n);
  Napi::Float32Array c = new_f32_unfilled(env, batch * m * n);
  for (int64_t i = 0; i < batch; ++i) {
    GemmArgs g;
    g.m = m; g.n = n; g.k = k;
    g.a = a.data + (ba == 1 ? 0 : i) * m * k; g.lda = ta ? m : k; g.trans_a = ta;
    g.b = b.data + (bb == 1 ? 0 : i) * k * n; g.ldb = tb ? k : n; g.trans_b = tb;
    g.c = c.Data() + i * m * n; g.ldc = n;
    g.epilogue = e;
    if (e.residual) g.epilogue.residual = e.residual + i * m * n;
    sgemm(g);
  }
  return c;
}

}  // namespace

void init_conv2d(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, forward));
  exports.Set("conv2dLevels", Napi::Function::New(env, forward_levels));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, backprop_input));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, backprop_filter));
  exports.Set("batchMatMul", Napi::Function::New(env, batch_matmul));
}

}  // namespace binding
}  // namespace retinanet
