// retinanetTargets on the CUDA device: the matching passes of match.cu, whose second pass also
// writes labels, encoded box targets and per-image foreground counts; all images in one launch
// per pass.
#include <vector>

#include "../core/targets.h"
#include "match.cuh"

namespace retinanet {

Status retinanet_targets_cuda(const float* anchors, int64_t n, const float* const* gt,
                              const int32_t* const* gt_labels, const int64_t* m, int64_t batch,
                              const MatchParams& mp, const BoxCoderWeights& w, int32_t* labels,
                              float* box_targets, int32_t* matches, int64_t* num_foreground) {
  for (int64_t b = 0; b < batch; ++b) num_foreground[b] = 0;
  if (n == 0 || batch == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_anchors, d_gt, d_max_iou, d_targets;
  cuda::Buffer<int32_t> d_gt_labels, d_off, d_matches, d_labels;
  cuda::Buffer<unsigned long long> d_fg;
  int64_t total_gt = 0;
  RN_TRY(cuda::upload(call, d_anchors, anchors, n * 4));
  RN_TRY(cuda::upload_ground_truth(call, gt, gt_labels, m, batch, d_gt, d_gt_labels, d_off, &total_gt));
  RN_TRY(d_matches.alloc(call, batch * n));
  RN_TRY(d_max_iou.alloc(call, batch * n));
  RN_TRY(d_labels.alloc(call, batch * n));
  RN_TRY(d_targets.alloc(call, batch * n * 4));
  RN_TRY(d_fg.alloc(call, batch));
  RN_TRY(cuda::zero(call, d_fg));
  const cuda::MatchInputs in{d_anchors.get(), n, d_gt.get(), d_off.get(), batch, total_gt};
  const cuda::TargetOutputs out{d_gt_labels.get(), w, d_labels.get(), d_targets.get(), d_fg.get()};
  RN_TRY(cuda::match_on_device(call, in, mp, d_matches.get(), d_max_iou.get(), &out));
  std::vector<unsigned long long> fg(static_cast<size_t>(batch));
  RN_TRY(cuda::download(call, labels, d_labels.get(), batch * n));
  RN_TRY(cuda::download(call, box_targets, d_targets.get(), batch * n * 4));
  RN_TRY(cuda::download(call, matches, d_matches.get(), batch * n));
  RN_TRY(cuda::download(call, fg.data(), d_fg.get(), batch));
  RN_TRY(call.sync());
  for (int64_t b = 0; b < batch; ++b) num_foreground[b] = static_cast<int64_t>(fg[static_cast<size_t>(b)]);
  return Status::ok();
}

}  // namespace retinanet
