#include "../core/box_iou.h"

#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

// (a, b, cuda?) -> Float32Array [na, nb]
Napi::Value box_iou(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<float> a = f32(info, 0, "a");
  const View<float> b = f32(info, 1, "b");
  if (a.length % 4 != 0) throw range_error(env, "a: length must be a multiple of 4");
  if (b.length % 4 != 0) throw range_error(env, "b: length must be a multiple of 4");
  Napi::Float32Array out = new_f32(env, (a.length / 4) * (b.length / 4));
  if (use_cuda(info, 2)) {
    throw_if_error(env, box_iou_cuda(a.data, a.length / 4, b.data, b.length / 4, out.Data()));
  } else {
    box_iou_cpu(a.data, a.length / 4, b.data, b.length / 4, out.Data());
  }
  return out;
}

}  // namespace

void init_box_iou(Napi::Env env, Napi::Object exports) {
  exports.Set("boxIou", Napi::Function::New(env, box_iou));
}

}  // namespace binding
}  // namespace retinanet
