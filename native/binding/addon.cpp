#include "convert.h"

namespace retinanet {
namespace binding {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  init_threads(env, exports);
  init_focal_loss(env, exports);
  init_anchors(env, exports);
  init_box_iou(env, exports);
  init_box_coding(env, exports);
  init_match(env, exports);
  init_targets(env, exports);
  init_nms(env, exports);
  init_postprocess(env, exports);
  init_conv2d(env, exports);
  init_group_norm(env, exports);
  init_max_pool(env, exports);
  init_resize_nearest(env, exports);
  init_elementwise(env, exports);
  init_reduce_sum(env, exports);
  init_sgd(env, exports);
  return exports;
}

}  // namespace binding
}  // namespace retinanet

static Napi::Object InitRetinanet(Napi::Env env, Napi::Object exports) {
  return retinanet::binding::init(env, exports);
}

NODE_API_MODULE(retinanet, InitRetinanet)
