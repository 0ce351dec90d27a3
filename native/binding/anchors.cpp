#include "../core/anchors.h"

#include "convert.h"

namespace retinanet {
namespace binding {
namespace {

// (levels Float64Array [L, 5] = strideY, strideX, size, height, width;
//  { scales Float32Array, aspectRatios Float32Array, offset, torchvisionRounding }, cuda?) -> Float32Array [N, 4]
Napi::Value generate_anchors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View<double> specs = f64(info, 0, "levels");
  const Params params(info, 1, "params");
  const View<float> scales = params.f32("scales");
  const View<float> ratios = params.f32("aspectRatios");
  AnchorParams p;
  p.scales.assign(scales.data, scales.data + scales.length);
  p.aspect_ratios.assign(ratios.data, ratios.data + ratios.length);
  p.offset = static_cast<float>(params.number("offset"));
  p.torchvision_rounding = params.boolean("torchvisionRounding");
  if (specs.length % 5 != 0) throw range_error(env, "levels: length must be a multiple of 5");
  std::vector<AnchorLevelSpec> levels;
  const int64_t a = scales.length * ratios.length;
  int64_t total = 0;
  for (int64_t i = 0; i < specs.length; i += 5) {
    const double* d = specs.data + i;
    AnchorLevelSpec s{static_cast<float>(d[0]), static_cast<float>(d[1]), static_cast<float>(d[2]),
                      static_cast<int64_t>(d[3]), static_cast<int64_t>(d[4])};
    if (s.height < 0 || s.width < 0) throw range_error(env, "levels: negative feature map size");
    levels.push_back(s);
    total += s.height * s.width * a;
  }
  Napi::Float32Array out = new_f32(env, total * 4);
  if (use_cuda(info, 2)) {
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
