// Sigmoid focal loss (paper eq. 5) and FL* (appendix eq. 6-8), loss and gradient in one pass.
#pragma once
#include <cstdint>

#include "status.h"

namespace retinanet {

enum class FocalKind { kFocal, kFocalStar };

struct FocalLossParams {
  FocalKind kind = FocalKind::kFocal;
  bool use_alpha = true;   // false: alpha_t = 1
  float alpha = 0.25f;     // weight of the positive (target-class) terms; 1 - alpha elsewhere
  float gamma = 2.0f;      // FL: focusing exponent (>= 0); FL*: steepness (> 0)
  float beta = 0.0f;       // FL* shift
  double normalizer = 1.0; // loss and gradient are divided by it (> 0)
};

// logits [n, k] anchor-major; labels [n] in {0..k-1, -1 background, -2 ignored}.
// grad (nullable) receives d loss / d logits, 0 on ignored anchors.
// The loss is summed in double per fixed chunk and merged in chunk order: same bits for any
// thread count. Labels are checked by the caller; the core only compares them with class
// indices (never indexes by them), so an out-of-range label cannot read out of bounds.
// A non-finite logit gives kRangeError.
Status focal_loss_cpu(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                      const FocalLossParams& params, double* loss, float* grad);

// The same on the CUDA device (native/cuda/focal_loss.cu): the host arrays are copied to the
// device and the gradient back within the call. One pass over logits and labels writes the
// gradient and per-block partial sums in double, which a second launch adds in a fixed order:
// the same bits on every run. The first non-finite row is reported as on the CPU.
Status focal_loss_cuda(const float* logits, const int32_t* labels, int64_t n, int64_t k,
                       const FocalLossParams& params, double* loss, float* grad);

}  // namespace retinanet
