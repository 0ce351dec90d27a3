#include "../elementwise.h"

#include <vector>

#include "../../binding/convert.h"

namespace retinanet {
namespace binding {
namespace {

// A shape: Float64Array of at most 64 integers in [0, 2^31) whose product is the length of the
// values it describes.
std::vector<int64_t> shape_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t length) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> shape = sizes(info, i, name);
  if (shape.size() > 64) throw range_error(env, std::string(name) + ": rank above 64");
  double size = 1;
  for (const int64_t d : shape) size *= static_cast<double>(d);
  if (size != static_cast<double>(length)) {
    throw range_error(env, std::string(name) + ": the shape does not match the number of values");
  }
  return shape;
}

// (op, a, aShape, b, bShape) -> out, of the broadcast shape
Napi::Value binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = count(info, 0, "op");
  if (op > static_cast<int64_t>(BinaryOp::kReluGrad)) throw range_error(env, "op: unknown");
  const View<float> a = f32(info, 1, "a");
  const std::vector<int64_t> a_shape = shape_arg(info, 2, "aShape", a.length);
  const View<float> b = f32(info, 3, "b");
  const std::vector<int64_t> b_shape = shape_arg(info, 4, "bShape", b.length);
  std::vector<int64_t> shape;
  if (!broadcast_shape(a_shape, b_shape, &shape)) throw range_error(env, "aShape, bShape: the shapes do not broadcast");
  double size = 1;
  for (int64_t d : shape) size *= static_cast<double>(d);
  Napi::Float32Array out = new_f32_unfilled(env, element_count(env, size, "out"));
  throw_if_error(env, binary_op(static_cast<BinaryOp>(op), a_shape, a.data, b_shape, b.data, out.Data()));
  return out;
}

// (op, x, alpha) -> y
Napi::Value unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = count(info, 0, "op");
  if (op > static_cast<int64_t>(UnaryOp::kStep)) throw range_error(env, "op: unknown");
  const View<float> x = f32(info, 1, "x");
  const double alpha = number(info, 2, "alpha");
  Napi::Float32Array y = new_f32_unfilled(env, x.length);
  unary_op(static_cast<UnaryOp>(op), x.length, x.data, static_cast<float>(alpha), y.Data());
  return y;
}

}  // namespace

void init_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binaryOp", Napi::Function::New(env, binary));
  exports.Set("unaryOp", Napi::Function::New(env, unary));
}

}  // namespace binding
}  // namespace retinanet
