#include "../core/anchors.h"

#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

// (levelSpecs Float64Array [L, 4] = level, size, height, width; scales F32; ratios F32;
//  offset; torchvisionRounding; cuda?) -> Float32Array [N, 4]
Napi::Value generate_anchors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw type_error(env, "levels: expected a Float64Array");
  }
  auto specs = info[0].As<Napi::Float64Array>();
  const View<float> scales = f32(info, 1, "scales");
  const View<float> ratios = f32(info, 2, "aspectRatios");
  AnchorParams p;
  p.scales.assign(scales.data, scales.data + scales.length);
  p.aspect_ratios.assign(ratios.data, ratios.data + ratios.length);
  p.offset = static_cast<float>(number(info, 3, "offset"));
  p.torchvision_rounding = boolean(info, 4, "torchvisionRounding");
  // Per level: stride_y, stride_x, size, height, width.
  if (specs.ElementLength() % 5 != 0) throw range_error(env, "levels: length must be a multiple of 5");
  std::vector<AnchorLevelSpec> levels;
  const int64_t a = scales.length * ratios.length;
  int64_t total = 0;
  for (size_t i = 0; i < specs.ElementLength(); i += 5) {
    AnchorLevelSpec s{static_cast<float>(specs[i]), static_cast<float>(specs[i + 1]), static_cast<float>(specs[i + 2]),
                      static_cast<int64_t>(specs[i + 3]), static_cast<int64_t>(specs[i + 4])};
    if (s.height < 0 || s.width < 0) throw range_error(env, "levels: negative feature map size");
    levels.push_back(s);
    total += s.height * s.width * a;
  }
  Napi::Float32Array out = new_f32(env, total * 4);
  if (use_cuda(info, 5)) {
    throw_if_error(env, generate_anchors_cuda(levels, p, out.Data()));
  } else {
    generate_anchors_cpu(levels, p, out.Data());
  }
  return out;
}

}  // namespace

void init_anchors(Napi::Env env, Napi::Object exports) {
  exports.Set("generateAnchors", Napi::Function::New(env, generate_anchors));
}

}  // namespace binding
}  // namespace retinanet
