#include "../core/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../core/gemm.h"
#include "../core/thread_pool.h"

namespace retinanet {
namespace {

bool is_pointwise(const Conv2DShape& s) {
  return s.filter_h == 1 && s.filter_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.out_h == s.in_h && s.out_w == s.in_w;
}

struct Im2col {
  const Conv2DShape* s;
  const float* x;
};

// Row m of the im2col matrix (output pixel b, oy, ox), columns [k0, k0 + depth) of
// (ky, kx, c): runs of channels copied from the input, zeros where the window leaves it.
void im2col_row(const Conv2DShape& s, const float* x, int64_t m, int64_t k0, int64_t depth, float* dst) {
  const int64_t ox = m % s.out_w;
  const int64_t oy = (m / s.out_w) % s.out_h;
  const int64_t b = m / (s.out_w * s.out_h);
  int64_t c = k0 % s.in_c;
  int64_t kx = (k0 / s.in_c) % s.filter_w;
  int64_t ky = k0 / (s.in_c * s.filter_w);
  int64_t done = 0;
  while (done < depth) {
    const int64_t run = std::min(s.in_c - c, depth - done);
    const int64_t iy = oy * s.stride_h - s.pad_top + ky;
    const int64_t ix = ox * s.stride_w - s.pad_left + kx;
    if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) {
      std::memcpy(dst + done, x + ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + c, static_cast<size_t>(run) * sizeof(float));
    } else {
      std::fill(dst + done, dst + done + run, 0.0f);
    }
    done += run;
    c = 0;
    if (++kx == s.filter_w) {
      kx = 0;
      ++ky;
    }
  }
}

void pack_im2col(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, float* dst) {
  const Im2col& p = *static_cast<const Im2col*>(ctx);
  for (int64_t r = 0; r < rows; ++r) im2col_row(*p.s, p.x, i0 + r, k0, depth, dst + r * depth);
}

// Pixels per chunk for the backward passes' column buffers (bounded memory).
int64_t chunk_rows(const Conv2DShape& s) {
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  return std::max<int64_t>(64, (int64_t{1} << 22) / std::max<int64_t>(k, 1));  // ~16 MB of floats
}

}  // namespace

void apply_epilogue(float* y, int64_t rows, int64_t cols, const Epilogue& e) {
  if (!e.bias && e.activation == Activation::kLinear && !e.residual) return;
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = y + r * cols;
      const float* res = e.residual ? e.residual + r * cols : nullptr;
      for (int64_t j = 0; j < cols; ++j) {
        float v = row[j] + (e.bias ? e.bias[j] : 0.0f);
        switch (e.activation) {
          case Activation::kRelu: v = v > 0.0f ? v : 0.0f; break;
          case Activation::kRelu6: v = v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f; break;
          case Activation::kLeakyRelu: v = v > 0.0f ? v : v * e.leaky_alpha; break;
          case Activation::kLinear: break;
        }
        row[j] = res ? v + res[j] : v;
      }
    }
  });
}

void conv2d_forward(const Conv2DShape& s, const float* x, const float* w, const Epilogue& e, float* y) {
  const int64_t m = s.batch * s.out_h * s.out_w;
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  if (is_pointwise(s)) {
    GemmArgs g;
    g.m = m; g.n = s.out_c; g.k = k;
    g.a = x; g.lda = k;
    g.b = w; g.ldb = s.out_c;
    g.c = y; g.ldc = s.out_c;
    sgemm(g);
  } else {
    const Im2col ctx{&s, x};
    sgemm_rows(m, s.out_c, k, pack_im2col, &ctx, w, s.out_c, false, y, s.out_c, false);
  }
  apply_epilogue(y, m, s.out_c, e);
}

void conv2d_backprop_input(const Conv2DShape& s, const float* dy, const float* w, float* dx) {
  const int64_t m = s.batch * s.out_h * s.out_w;
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  if (is_pointwise(s)) {  // dx = dy * W^T
    GemmArgs g;
    g.m = m; g.n = s.in_c; g.k = s.out_c;
    g.a = dy; g.lda = s.out_c;
    g.b = w; g.ldb = s.out_c; g.trans_b = true;
    g.c = dx; g.ldc = s.in_c;
    sgemm(g);
    return;
  }
  std::fill(dx, dx + s.batch * s.in_h * s.in_w * s.in_c, 0.0f);
  const int64_t chunk = chunk_rows(s);
  std::vector<float> cols(static_cast<size_t>(std::min(chunk, m) * k));
  for (int64_t m0 = 0; m0 < m; m0 += chunk) {
    const int64_t mc = std::min(chunk, m - m0);
    // Columns of this chunk: dy rows times W^T.
    GemmArgs g;
    g.m = mc; g.n = k; g.k = s.out_c;
    g.a = dy + m0 * s.out_c; g.lda = s.out_c;
    g.b = w; g.ldb = s.out_c; g.trans_b = true;
    g.c = cols.data(); g.ldc = k;
    sgemm(g);
    // col2im: add each column entry back to the input pixel it came from. Windows of
    // neighbouring pixels overlap, so this scatter runs in order, in one thread.
    for (int64_t r = 0; r < mc; ++r) {
      const int64_t mm = m0 + r;
      const int64_t ox = mm % s.out_w;
      const int64_t oy = (mm / s.out_w) % s.out_h;
      const int64_t b = mm / (s.out_w * s.out_h);
      const float* src = cols.data() + r * k;
      for (int64_t ky = 0; ky < s.filter_h; ++ky) {
        const int64_t iy = oy * s.stride_h - s.pad_top + ky;
        if (iy < 0 || iy >= s.in_h) continue;
        for (int64_t kx = 0; kx < s.filter_w; ++kx) {
          const int64_t ix = ox * s.stride_w - s.pad_left + kx;
          if (ix < 0 || ix >= s.in_w) continue;
          float* d = dx + ((b * s.in_h + iy) * s.in_w + ix) * s.in_c;
          const float* c = src + (ky * s.filter_w + kx) * s.in_c;
          for (int64_t ch = 0; ch < s.in_c; ++ch) d[ch] += c[ch];
        }
      }
    }
  }
}

void conv2d_backprop_filter(const Conv2DShape& s, const float* x, const float* dy, float* dw) {
  const int64_t m = s.batch * s.out_h * s.out_w;
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  // dW^T [out_c, K] = dy^T [out_c, M] * cols [M, K]: dy^T packs as contiguous runs (transposed
  // A panels) and the columns as contiguous rows (B strips), both cheap; one transpose at the end.
  std::vector<float> dwt(static_cast<size_t>(s.out_c * k), 0.0f);
  const bool pointwise = is_pointwise(s);
  const int64_t chunk = pointwise ? std::max<int64_t>(m, 1) : chunk_rows(s);
  std::vector<float> cols(pointwise ? 0 : static_cast<size_t>(std::min(chunk, m) * k));
  for (int64_t m0 = 0; m0 < m; m0 += chunk) {
    const int64_t mc = std::min(chunk, m - m0);
    const float* col = x + m0 * k;  // 1x1, stride 1, no padding: x is its own column matrix
    if (!pointwise) {
      parallel_for(mc, 64, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) im2col_row(s, x, m0 + r, 0, k, cols.data() + r * k);
      });
      col = cols.data();
    }
    GemmArgs g;
    g.m = s.out_c; g.n = k; g.k = mc;
    g.a = dy + m0 * s.out_c; g.lda = s.out_c; g.trans_a = true;
    g.b = col; g.ldb = k;
    g.c = dwt.data(); g.ldc = k;
    g.accumulate = m0 > 0;
    sgemm(g);
  }
  parallel_for(k, 256, [&](int64_t k0, int64_t k1) {
    for (int64_t kk = k0; kk < k1; ++kk) {
      for (int64_t o = 0; o < s.out_c; ++o) dw[kk * s.out_c + o] = dwt[o * k + kk];
    }
  });
}

}  // namespace retinanet
