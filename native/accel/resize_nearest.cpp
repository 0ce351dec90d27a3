#include "resize_nearest.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Rows per chunk: about 64K values each.
int64_t row_grain(int64_t row_values) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(row_values, 1)); }

// dst[j] += src[j] over n channels, in double.
RETINANET_DISPATCH void add_row(double* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j] += static_cast<double>(src[j]);
}

}  // namespace

void resize_nearest_forward(const ResizeShape& s, const int32_t* rows, const int32_t* cols, const float* x, float* y) {
  const int64_t c = s.channels;
  parallel_for(s.batch * s.out_h, row_grain(s.out_w * c), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / s.out_h, i = r % s.out_h;
      const float* src = x + (b * s.in_h + rows[i]) * s.in_w * c;
      float* dst = y + r * s.out_w * c;
      for (int64_t j = 0; j < s.out_w; ++j) std::memcpy(dst + j * c, src + cols[j] * c, static_cast<size_t>(c) * sizeof(float));
    }
  });
}

void resize_nearest_backward(const ResizeShape& s, const int32_t* rows, const int32_t* cols, const float* dy,
                             float* dx) {
  const int64_t c = s.channels;
  // By dx row, so that rows run in parallel with no write conflicts: each gathers, in ascending
  // (i, j) order, the dy cells whose source it is, summing in double and rounding once, as
  // tfjs's kernel does in JavaScript numbers.
  parallel_for(s.batch * s.in_h, row_grain(s.in_w * c), [&](int64_t r0, int64_t r1) {
    std::vector<double> sum(static_cast<size_t>(s.in_w * c));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / s.in_h, y = r % s.in_h;
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int64_t i = 0; i < s.out_h; ++i) {
        if (rows[i] != y) continue;
        const float* src = dy + (b * s.out_h + i) * s.out_w * c;
        for (int64_t j = 0; j < s.out_w; ++j) add_row(sum.data() + cols[j] * c, src + j * c, c);
      }
      float* out = dx + r * s.in_w * c;
      for (int64_t k = 0; k < s.in_w * c; ++k) out[k] = static_cast<float>(sum[k]);
    }
  });
}

}  // namespace retinanet
