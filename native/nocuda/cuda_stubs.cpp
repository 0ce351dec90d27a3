// Built instead of native/cuda/*.cu when the addon is compiled without CUDA (no nvcc,
// RETINANET_CUDA=OFF, or the node-gyp fallback): every *_cuda entry point reports that this
// build has no CUDA kernels, so the binding needs no #ifdef. The TypeScript layer checks
// ops.devices() first; these only answer a direct caller of the .node file.
#include "../core/anchors.h"
#include "../core/box_coding.h"
#include "../core/box_iou.h"
#include "../core/cuda.h"
#include "../core/focal_loss.h"
#include "../core/match.h"
#include "../core/nms.h"
#include "../core/postprocess.h"
#include "../core/targets.h"

namespace retinanet {
namespace {

Status not_built() {
  return Status::no_cuda(
      "device 'cuda': this build of tfjs-retinanet has no CUDA kernels (built without nvcc or with "
      "RETINANET_CUDA=OFF)");
}

}  // namespace

const CudaAvailability& cuda_availability() {
  static const CudaAvailability none{false, 0, "built without CUDA"};
  return none;
}

Status focal_loss_cuda(const float*, const int32_t*, int64_t, int64_t, const FocalLossParams&, double*,
                       float*) {
  return not_built();
}
Status box_iou_cuda(const float*, int64_t, const float*, int64_t, float*) { return not_built(); }
Status encode_boxes_cuda(const float*, const float*, int64_t, const BoxCoderWeights&, float*) {
  return not_built();
}
Status decode_boxes_cuda(const float*, const float*, int64_t, const BoxCoderWeights&, float, float,
                         float*) {
  return not_built();
}
Status generate_anchors_cuda(const std::vector<AnchorLevelSpec>&, const AnchorParams&, float*) {
  return not_built();
}
Status match_anchors_cuda(const float*, int64_t, const float* const*, const int64_t*, int64_t,
                          const MatchParams&, int32_t*, float*) {
  return not_built();
}
Status retinanet_targets_cuda(const float*, int64_t, const float* const*, const int32_t* const*,
                              const int64_t*, int64_t, const MatchParams&, const BoxCoderWeights&,
                              int32_t*, float*, int32_t*, int64_t*) {
  return not_built();
}
Status batched_nms_cuda(const float*, const float*, const int32_t*, int64_t, const NmsParams&,
                        std::vector<int32_t>&) {
  return not_built();
}
Status postprocess_cuda(const std::vector<PostprocessLevel>&, int64_t,
                        const std::vector<std::pair<float, float>>&, const PostprocessParams&,
                        std::vector<Detections>&) {
  return not_built();
}

}  // namespace retinanet
