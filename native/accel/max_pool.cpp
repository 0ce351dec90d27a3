#include "max_pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Output rows per chunk: about 32K values read per chunk.
int64_t row_grain(int64_t row_work) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(row_work, 1)); }

// The input rows [y0, y1) and columns [x0, x1) that output cell (oy, ox)'s window covers.
struct Window {
  int64_t y0, y1, x0, x1;
};

RETINANET_INLINE Window window(const Pool2DShape& s, int64_t oy, int64_t ox) {
  const int64_t ty = oy * s.stride_h - s.pad_top, tx = ox * s.stride_w - s.pad_left;
  return {std::max<int64_t>(ty, 0), std::min(ty + s.filter_h, s.in_h), std::max<int64_t>(tx, 0),
          std::min(tx + s.filter_w, s.in_w)};
}

// One output row (image b, row oy): the maxima over each window, channel by channel.
RETINANET_DISPATCH void max_row(const Pool2DShape& s, const float* __restrict x, int64_t b, int64_t oy,
                                float* __restrict y) {
  const int64_t c = s.channels;
  const float* image = x + b * s.in_h * s.in_w * c;
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    float* __restrict out = y + ox * c;
    for (int64_t j = 0; j < c; ++j) out[j] = kNegInf;
    const Window w = window(s, oy, ox);
    for (int64_t iy = w.y0; iy < w.y1; ++iy) {
      for (int64_t ix = w.x0; ix < w.x1; ++ix) {
        const float* __restrict v = image + (iy * s.in_w + ix) * c;
        for (int64_t j = 0; j < c; ++j) out[j] = v[j] > out[j] ? v[j] : out[j];
      }
    }
  }
}

// One output row's argmax: the input cell (iy·in_w + ix) of each window's first maximum, or -1.
RETINANET_DISPATCH void argmax_row(const Pool2DShape& s, const float* __restrict x, int64_t b, int64_t oy,
                                   float* __restrict best, int32_t* __restrict arg) {
  const int64_t c = s.channels;
  const float* image = x + b * s.in_h * s.in_w * c;
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    int32_t* __restrict a = arg + ox * c;
    for (int64_t j = 0; j < c; ++j) {
      best[j] = kNegInf;
      a[j] = -1;
    }
    const Window w = window(s, oy, ox);
    for (int64_t iy = w.y0; iy < w.y1; ++iy) {
      for (int64_t ix = w.x0; ix < w.x1; ++ix) {
        const float* __restrict v = image + (iy * s.in_w + ix) * c;
        const int32_t cell = static_cast<int32_t>(iy * s.in_w + ix);
        for (int64_t j = 0; j < c; ++j) {
          const bool win = v[j] > best[j];
          best[j] = win ? v[j] : best[j];
          a[j] = win ? cell : a[j];
        }
      }
    }
  }
}

// Input row (b, iy) of dx: per cell, the sum in double of the dy of the windows whose maximum it
// is, in (oy, ox) order (tfjs's order), rounded once.
RETINANET_DISPATCH void gather_row(const Pool2DShape& s, const int32_t* __restrict arg, const float* __restrict dy,
                                   int64_t b, int64_t iy, double* __restrict acc, float* __restrict dx) {
  const int64_t c = s.channels;
  const int64_t out_image = b * s.out_h * s.out_w * c;
  // Windows containing row iy: oy·stride − pad ≤ iy < oy·stride − pad + filter.
  const int64_t ry = iy + s.pad_top;
  const int64_t oy0 = ry - s.filter_h + 1 <= 0 ? 0 : (ry - s.filter_h + s.stride_h) / s.stride_h;
  const int64_t oy1 = std::min(ry / s.stride_h, s.out_h - 1);
  for (int64_t ix = 0; ix < s.in_w; ++ix) {
    const int64_t rx = ix + s.pad_left;
    const int64_t ox0 = rx - s.filter_w + 1 <= 0 ? 0 : (rx - s.filter_w + s.stride_w) / s.stride_w;
    const int64_t ox1 = std::min(rx / s.stride_w, s.out_w - 1);
    const int32_t cell = static_cast<int32_t>(iy * s.in_w + ix);
    for (int64_t j = 0; j < c; ++j) acc[j] = 0.0;
    for (int64_t oy = oy0; oy <= oy1; ++oy) {
      for (int64_t ox = ox0; ox <= ox1; ++ox) {
        const int64_t o = out_image + (oy * s.out_w + ox) * c;
        const int32_t* __restrict a = arg + o;
        const float* __restrict d = dy + o;
        for (int64_t j = 0; j < c; ++j) acc[j] += a[j] == cell ? static_cast<double>(d[j]) : 0.0;
      }
    }
    float* __restrict out = dx + ix * c;
    for (int64_t j = 0; j < c; ++j) out[j] = static_cast<float>(acc[j]);
  }
}

}  // namespace

void max_pool_forward(const Pool2DShape& s, const float* x, float* y) {
  const int64_t rows = s.batch * s.out_h;
  const int64_t row_size = s.out_w * s.channels;
  parallel_for(rows, row_grain(row_size * s.filter_h * s.filter_w), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) max_row(s, x, r / s.out_h, r % s.out_h, y + r * row_size);
  });
}

void max_pool_backward(const Pool2DShape& s, const float* x, const float* dy, float* dx) {
  const int64_t c = s.channels;
  const int64_t out_rows = s.batch * s.out_h, out_row = s.out_w * c;
  std::vector<int32_t> arg(static_cast<size_t>(out_rows * out_row));
  parallel_for(out_rows, row_grain(out_row * s.filter_h * s.filter_w), [&](int64_t r0, int64_t r1) {
    std::vector<float> best(static_cast<size_t>(c));
    for (int64_t r = r0; r < r1; ++r) argmax_row(s, x, r / s.out_h, r % s.out_h, best.data(), arg.data() + r * out_row);
  });
  const int64_t in_rows = s.batch * s.in_h, in_row = s.in_w * c;
  // Windows per input cell, at most: ceil(filter / stride) in each direction.
  const int64_t overlap = ((s.filter_h + s.stride_h - 1) / s.stride_h) * ((s.filter_w + s.stride_w - 1) / s.stride_w);
  parallel_for(in_rows, row_grain(in_row * overlap), [&](int64_t r0, int64_t r1) {
    std::vector<double> acc(static_cast<size_t>(c));
    for (int64_t r = r0; r < r1; ++r) gather_row(s, arg.data(), dy, r / s.in_h, r % s.in_h, acc.data(), dx + r * in_row);
  });
}

}  // namespace retinanet
