// SGD with momentum and weight decay, torch.optim.SGD's update, as one elementwise pass:
//   v' = momentum · v + (grad_scale · g + weight_decay · p),   p' = p − lr · v'
// each line computed in double from the float32 inputs and rounded to float32 once (v' is
// rounded before p' uses it): the bits a JavaScript loop over Float32Arrays gives. The outputs
// may be the inputs themselves (an in-place update).
#pragma once
#include <cstdint>

namespace retinanet {

struct SgdParams {
  double learning_rate, momentum, weight_decay, grad_scale;
};

void sgd_momentum_update(int64_t n, const float* p, const float* g, const float* v, const SgdParams& s, float* p_out,
                         float* v_out);

// start + Σ x[i]², in double, i = 0, 1, … in order (one chain, as a JavaScript loop adds them), so
// sums over several arrays chain exactly: sum_of_squares(b, sum_of_squares(a, 0)).
double sum_of_squares(int64_t n, const float* x, double start);

}  // namespace retinanet
