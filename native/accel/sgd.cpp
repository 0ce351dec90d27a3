#include "sgd.h"

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Elements per parallel chunk: the update is memory-bound.
constexpr int64_t kGrain = 1 << 16;

// No __restrict: the outputs may alias the inputs; each element is read before it is written.
RETINANET_DISPATCH void update_range(const float* p, const float* g, const float* v, SgdParams s, float* p_out,
                                     float* v_out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    const double pi = p[i];
    const float vi = static_cast<float>(s.momentum * v[i] + (s.grad_scale * g[i] + s.weight_decay * pi));
    v_out[i] = vi;
    p_out[i] = static_cast<float>(pi - s.learning_rate * vi);
  }
}

}  // namespace

void sgd_momentum_update(int64_t n, const float* p, const float* g, const float* v, const SgdParams& s, float* p_out,
                         float* v_out) {
  parallel_for(n, kGrain, [&](int64_t i0, int64_t i1) { update_range(p, g, v, s, p_out, v_out, i0, i1); });
}

double sum_of_squares(int64_t n, const float* x, double start) {
  double sum = start;
  for (int64_t i = 0; i < n; ++i) {
    const double xi = x[i];
    sum += xi * xi;
  }
  return sum;
}

}  // namespace retinanet
