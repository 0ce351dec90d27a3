// GroupNorm on NHWC float32 tensors (torch.nn.GroupNorm's definition): the C channels split into
// G groups of C/G consecutive channels; per image b and group g, mean μ and biased variance σ²
// over the group's H·W·C/G values; y = (x − μ)·rstd·γ_c + β_c with rstd = 1/sqrt(σ² + eps).
// Sums are accumulated in double over fixed pixel chunks merged in chunk order, so results have
// the same bits whatever the thread count.
#pragma once
#include <cstdint>

namespace retinanet {

struct GroupNormShape {
  int64_t batch;     // B
  int64_t spatial;   // H·W
  int64_t channels;  // C (a multiple of groups)
  int64_t groups;    // G >= 1
};

// x, y: [B, H·W, C]; gamma, beta: [C]; mean, rstd: [B, G].
void group_norm_forward(const GroupNormShape& s, const float* x, const float* gamma, const float* beta, double eps,
                        float* y, float* mean, float* rstd);

// From dy, the forward's x, mean, rstd and gamma: dx [B, H·W, C], dgamma [C], dbeta [C] in one call.
void group_norm_backward(const GroupNormShape& s, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, float* dx, float* dgamma, float* dbeta);

}  // namespace retinanet
