#include "conv2d.h"

#include <algorithm>
#include <cstring>

#include "../runtime/dispatch.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "winograd.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"

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

// Output pixel p as (b, oy, ox); next() steps to pixel p + 1 (the transposed packers walk the
// pixels in order).
struct OutputPixel {
  int64_t b, oy, ox;
  OutputPixel(const Conv2DShape& s, int64_t p)
      : b(p / (s.out_w * s.out_h)), oy((p / s.out_w) % s.out_h), ox(p % s.out_w) {}
  void next(const Conv2DShape& s) { advance(s, 1); }
  // n pixels on, n at most the rest of this output row.
  void advance(const Conv2DShape& s, int64_t n) {
    if ((ox += n) < s.out_w) return;
    ox = 0;
    if (++oy < s.out_h) return;
    oy = 0;
    ++b;
  }
};

// A row of at least n zeros (per thread), for windows that leave the image.
const float* zero_row(int64_t n) {
  thread_local std::vector<float> zeros;
  if (static_cast<int64_t>(zeros.size()) < n) zeros.assign(static_cast<size_t>(n), 0.0f);
  return zeros.data();
}

// table[d] for output pixels p0 + d, d < depth: x's row at input (iy, ix) = (oy·stride − pad + ky,
// ox·stride − pad + kx) where the `span` input pixels from there lie inside the image and the row
// starts at most `limit` floats into x; elsewhere outside(d, b, iy, ix). Output row by output row,
// the inside pixels a fixed step apart (no per-pixel divisions).
template <class Outside>
void input_rows(const Conv2DShape& s, const float* x, int64_t ky, int64_t kx, int64_t span, int64_t limit,
                int64_t p0, int64_t depth, const float** table, Outside outside) {
  OutputPixel px(s, p0);
  for (int64_t d = 0; d < depth;) {
    const int64_t n = std::min(s.out_w - px.ox, depth - d);
    const int64_t iy = px.oy * s.stride_h - s.pad_top + ky;
    const int64_t sw = s.stride_w, off = kx - s.pad_left;  // ix = ox * sw + off
    // Inside for ox in [lo, hi): ix >= 0 and ix + span <= in_w.
    int64_t lo = px.ox + n, hi = lo;
    if (iy >= 0 && iy < s.in_h && s.in_w - span - off >= 0) {
      lo = std::max<int64_t>(px.ox, off >= 0 ? 0 : (-off + sw - 1) / sw);
      hi = std::min<int64_t>(px.ox + n, (s.in_w - span - off) / sw + 1);
    }
    const int64_t row = ((px.b * s.in_h + iy) * s.in_w + off) * s.in_c;  // where ox = 0 would start
    for (int64_t ox = px.ox; ox < px.ox + n; ++ox, ++d) {
      const int64_t at = row + ox * sw * s.in_c;
      table[d] = ox >= lo && ox < hi && at <= limit ? x + at : outside(d, px.b, iy, ox * sw + off);
    }
    px.advance(s, n);
  }
}

// Row m of the im2col matrix (output pixel b, oy, ox), columns [k0, k0 + depth) of
// (ky, kx, c): runs of channels copied from the input, zeros where the window leaves it.
void im2col_row(const Conv2DShape& s, const float* x, int64_t m, int64_t k0, int64_t depth, float* dst) {
  const OutputPixel px(s, m);
  const int64_t ox = px.ox, oy = px.oy, b = px.b;
  int64_t c = k0 % s.in_c;
  int64_t kx = (k0 / s.in_c) % s.filter_w;
  int64_t ky = k0 / (s.in_c * s.filter_w);
  int64_t done = 0;
  while (done < depth) {
    const int64_t iy = oy * s.stride_h - s.pad_top + ky;
    const int64_t ix = ox * s.stride_w - s.pad_left + kx;
    if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) {
      // The taps (ky, kx..) that stay inside the row are one contiguous run of the input: one copy
      // for all of them (few channels, as in the stem's 7x7 on RGB, would otherwise copy 3 floats
      // at a time).
      const int64_t inside = std::min(s.filter_w - kx, s.in_w - ix);
      const int64_t run = std::min(inside * s.in_c - c, depth - done);
      std::memcpy(dst + done, x + ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + c, static_cast<size_t>(run) * sizeof(float));
      done += run;
      const int64_t pos = c + run;  // floats of the run from channel 0 of tap kx
      kx += pos / s.in_c;
      c = pos % s.in_c;
    } else {
      const int64_t run = std::min(s.in_c - c, depth - done);
      std::fill(dst + done, dst + done + run, 0.0f);
      done += run;
      c = 0;
      ++kx;
    }
    if (kx == s.filter_w) {
      kx = 0;
      ++ky;
    }
  }
}

void pack_im2col(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, float* dst) {
  const Im2col& p = *static_cast<const Im2col*>(ctx);
  for (int64_t r = 0; r < rows; ++r) im2col_row(*p.s, p.x, i0 + r, k0, depth, dst + r * depth);
}

// dx row (b, iy) += the entries of `cols` (rows m0 .. m0 + mc of the column matrix) that came
// from it.
RETINANET_DISPATCH void col2im_row(const Conv2DShape& s, const float* cols, int64_t m0, int64_t mc, int64_t b,
                                   int64_t iy, float* dx) {
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  float* drow = dx + (b * s.in_h + iy) * s.in_w * s.in_c;
  for (int64_t ky = 0; ky < s.filter_h; ++ky) {
    const int64_t ty = iy + s.pad_top - ky;
    if (ty < 0 || ty % s.stride_h != 0) continue;
    const int64_t oy = ty / s.stride_h;
    if (oy >= s.out_h) continue;
    const int64_t row_m = (b * s.out_h + oy) * s.out_w;
    if (row_m + s.out_w <= m0 || row_m >= m0 + mc) continue;
    for (int64_t ix = 0; ix < s.in_w; ++ix) {
      float* d = drow + ix * s.in_c;
      for (int64_t kx = 0; kx < s.filter_w; ++kx) {
        const int64_t tx = ix + s.pad_left - kx;
        if (tx < 0 || tx % s.stride_w != 0) continue;
        const int64_t ox = tx / s.stride_w;
        const int64_t mm = row_m + ox;
        if (ox >= s.out_w || mm < m0 || mm >= m0 + mc) continue;
        const float* c = cols + (mm - m0) * k + (ky * s.filter_w + kx) * s.in_c;
        for (int64_t ch = 0; ch < s.in_c; ++ch) d[ch] += c[ch];
      }
    }
  }
}

// One k-major panel of the transposed im2col matrix: rows = filter taps [i0, i0 + rows) as
// (ky, kx, c), rows <= mr, depth = output pixels [p0, p0 + depth). For panels whose taps are not
// one (ky, kx)'s consecutive channels (few channels, as in the stem).
void pack_im2col_transposed_panel(const Conv2DShape& s, const float* x, int64_t i0, int64_t rows, int64_t p0,
                                  int64_t depth, int64_t mr, float* dst) {
  constexpr int64_t kMaxMr = 16;  // the widest micro-kernel tile has 8 rows (16 for the narrow one)
  int64_t tap_y[kMaxMr] = {}, tap_x[kMaxMr] = {}, tap_c[kMaxMr] = {};  // rows >= 1 fill them
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = i0 + r;
    tap_c[r] = t % s.in_c;
    tap_x[r] = (t / s.in_c) % s.filter_w;
    tap_y[r] = t / (s.in_c * s.filter_w);
  }
  // The taps' offsets from the window's corner, and the window's extent, so that a pixel whose
  // taps all lie inside the image is a plain gather.
  int64_t tap_off[kMaxMr];
  int64_t ty_lo = tap_y[0], ty_hi = tap_y[0], tx_lo = tap_x[0], tx_hi = tap_x[0];
  for (int64_t r = 0; r < rows; ++r) {
    tap_off[r] = (tap_y[r] * s.in_w + tap_x[r]) * s.in_c + tap_c[r];
    ty_lo = std::min(ty_lo, tap_y[r]); ty_hi = std::max(ty_hi, tap_y[r]);
    tx_lo = std::min(tx_lo, tap_x[r]); tx_hi = std::max(tx_hi, tap_x[r]);
  }
  OutputPixel px(s, p0);
  for (int64_t d = 0; d < depth; ++d) {
    float* out = dst + d * mr;
    const int64_t y0 = px.oy * s.stride_h - s.pad_top, x0 = px.ox * s.stride_w - s.pad_left;
    const float* img = x + px.b * s.in_h * s.in_w * s.in_c;
    if (y0 + ty_lo >= 0 && y0 + ty_hi < s.in_h && x0 + tx_lo >= 0 && x0 + tx_hi < s.in_w) {
      const int64_t corner = (y0 * s.in_w + x0) * s.in_c;  // may be negative; corner + tap_off is not
      for (int64_t r = 0; r < rows; ++r) out[r] = img[corner + tap_off[r]];
    } else {
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t iy = y0 + tap_y[r], ix = x0 + tap_x[r];
        out[r] = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w ? img[(iy * s.in_w + ix) * s.in_c + tap_c[r]] : 0.0f;
      }
    }
    for (int64_t r = rows; r < mr; ++r) out[r] = 0.0f;
    px.next(s);
  }
}

// The transposed im2col matrix read where it lies, for sgemm_gathered: a panel of mr channels of
// one tap (ky, kx) at pixel p is that tap's input row for p (or a row of zeros where the window
// leaves the image) — one table of pixel rows per tap of the task instead of a copy of the matrix
// (packing it was a fifth of a 3x3 filter gradient's time on Zen 5, and more at 64 channels).
// Panels across two taps, or short (few channels, as in the stem), are packed.
void gather_im2col_transposed(const void* ctx, int64_t i0, int64_t rows, int64_t p0, int64_t depth, int64_t mr,
                              GatheredPanels* out) {
  const Im2col& p = *static_cast<const Im2col*>(ctx);
  const Conv2DShape& s = *p.s;
  const float* const zeros = zero_row(s.in_c);
  const int64_t panels = (rows + mr - 1) / mr;
  const auto in_one_tap = [&](int64_t q) {
    const int64_t first = i0 + q * mr;
    return q * mr + mr <= rows && first / s.in_c == (first + mr - 1) / s.in_c;
  };
  int64_t packed = 0;
  for (int64_t q = 0; q < panels; ++q) packed += in_one_tap(q) ? 0 : 1;
  const int64_t tap0 = i0 / s.in_c, taps = (i0 + rows - 1) / s.in_c - tap0 + 1;
  out->rows.resize(static_cast<size_t>((taps + packed) * depth));
  out->packed.resize(static_cast<size_t>(packed * mr * depth));
  const int64_t size = s.batch * s.in_h * s.in_w * s.in_c;
  for (int64_t t = 0; t < taps; ++t) {
    input_rows(s, p.x, (tap0 + t) / s.filter_w, (tap0 + t) % s.filter_w, 1, size, p0, depth, out->rows.data() + t * depth,
               [&](int64_t, int64_t, int64_t, int64_t) { return zeros; });
  }
  for (int64_t q = 0, j = 0; q < panels; ++q) {
    const int64_t first = i0 + q * mr;
    if (in_one_tap(q)) {
      out->table[q] = (first / s.in_c - tap0) * depth;
      out->offset[q] = first % s.in_c;
      continue;
    }
    float* dst = out->packed.data() + j * mr * depth;
    pack_im2col_transposed_panel(s, p.x, first, std::min(mr, rows - q * mr), p0, depth, mr, dst);
    out->name_packed(q, (taps + j) * depth, dst, depth, mr);
    ++j;
  }
}

// Few input channels (the stem's 7x7 on RGB): a panel of mr taps would take channels of several
// filter taps, and every panel would be packed. But one filter row's taps (kx, c) are
// filter_w * in_c consecutive floats of x wherever the window's row lies inside the image: each
// filter row becomes a group of `group` GEMM rows (that run rounded up to mr; the rows past it
// read what follows the run and are dropped), read in place; a window cut by the image's left or
// right edge, or a run too close to x's end, is copied with its zeros into `packed`. dW's rows
// come out grouped the same way (filter_h x group) and are copied into HWIO afterwards.
struct FilterRows {
  const Conv2DShape* s;
  const float* x;
  int64_t group;
};

void gather_filter_rows(const void* ctx, int64_t i0, int64_t rows, int64_t p0, int64_t depth, int64_t mr,
                        GatheredPanels* out) {
  const FilterRows& f = *static_cast<const FilterRows*>(ctx);
  const Conv2DShape& s = *f.s;
  const int64_t run = s.filter_w * s.in_c;
  const float* const zeros = zero_row(f.group);
  const int64_t ky0 = i0 / f.group, kys = (i0 + rows - 1) / f.group - ky0 + 1;
  const int64_t size = s.batch * s.in_h * s.in_w * s.in_c;  // floats of x: a row read in place ends inside
  out->rows.resize(static_cast<size_t>(kys * depth));
  out->packed.resize(static_cast<size_t>(kys * depth * f.group));
  for (int64_t t = 0; t < kys; ++t) {
    float* copies = out->packed.data() + t * depth * f.group;
    input_rows(s, f.x, ky0 + t, 0, s.filter_w, size - f.group, p0, depth, out->rows.data() + t * depth,
               [&](int64_t d, int64_t b, int64_t iy, int64_t ix0) -> const float* {
                 if (iy < 0 || iy >= s.in_h) return zeros;
                 const float* row = f.x + (b * s.in_h + iy) * s.in_w * s.in_c;
                 float* c = copies + d * f.group;
                 for (int64_t j = 0; j < f.group; ++j) {
                   const int64_t ix = ix0 + j / s.in_c;
                   c[j] = j < run && ix >= 0 && ix < s.in_w ? row[ix * s.in_c + j % s.in_c] : 0.0f;
                 }
                 return c;
               });
  }
  for (int64_t q = 0; q * mr < rows; ++q) {
    const int64_t first = i0 + q * mr;
    out->table[q] = (first / f.group - ky0) * depth;
    out->offset[q] = first % f.group;
  }
}

// Pixels per chunk of the input gradient's column buffer: 8 MB, kept hot for the col2im gather.
int64_t chunk_rows(const Conv2DShape& s) {
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  return std::max<int64_t>(64, (int64_t{1} << 21) / std::max<int64_t>(k, 1));
}

}  // namespace

void conv2d_forward(const Conv2DShape& s, const float* x, const float* w, const Epilogue& e, float* y,
                    bool bfloat16, bool training) {
  const int64_t m = s.batch * s.out_h * s.out_w;
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  // Winograd first, bfloat16 asked or not: at the shapes it takes, its float32 products (4x
  // fewer) beat the direct bfloat16 kernel (2x the float32 peak) and round less.
  if (winograd_applies(s, training)) {
    conv2d_winograd(s, x, hwio_filter(w, s.in_c, s.out_c), e, y);
  } else if (bfloat16) {  // every shape as an implicit GEMM (a 1x1's im2col rows are its input rows)
    const Im2col ctx{&s, x};
    gemm_bf16_rows(m, s.out_c, k, pack_im2col, &ctx, w, s.out_c, y, s.out_c, e);
  } else if (is_pointwise(s)) {
    GemmArgs g;
    g.m = m; g.n = s.out_c; g.k = k;
    g.a = x; g.lda = k;
    g.b = w; g.ldb = s.out_c;
    g.c = y; g.ldc = s.out_c;
    g.epilogue = e;
    sgemm(g);
  } else {
    const Im2col ctx{&s, x};
    sgemm_rows(m, s.out_c, k, pack_im2col, &ctx, w, s.out_c, false, y, s.out_c, false, e);
  }
}

void conv2d_forward_levels(const Conv2DShape* shapes, int64_t count, const float* const* xs, const float* w,
                           const Epilogue& e, float* const* ys, bool bfloat16) {
  if (count > 0 && winograd_applies_levels(shapes, count)) {
    conv2d_winograd_levels(shapes, count, xs, hwio_filter(w, shapes[0].in_c, shapes[0].out_c), e, ys);
    return;
  }
  for (int64_t i = 0; i < count; ++i) conv2d_forward(shapes[i], xs[i], w, e, ys[i], bfloat16, false);
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
  if (s.stride_h == 1 && s.stride_w == 1 && s.filter_h == 3 && s.filter_w == 3 && s.pad_top <= 2 && s.pad_left <= 2) {
    // Stride 1: dx is the convolution of dy with the filter turned 180 degrees and its channels
    // swapped, padded by 2 - pad (dy is zero outside its own extent). The turned filter is the
    // same weights read by strides: tap t is tap 8 - t, input channel k, output channel c.
    const Conv2DShape t{s.batch, s.out_h, s.out_w, s.out_c, 3, 3, s.in_c, 1, 1, 2 - s.pad_top, 2 - s.pad_left, s.in_h, s.in_w};
    if (winograd_applies(t, true)) {
      const WinogradFilter turned{w + 8 * s.in_c * s.out_c, -s.in_c * s.out_c, 1, s.out_c};
      conv2d_winograd(t, dy, turned, Epilogue{}, dx);
      return;
    }
  }
  std::fill(dx, dx + s.batch * s.in_h * s.in_w * s.in_c, 0.0f);
  const int64_t chunk = chunk_rows(s);
  float* const cols = scratch_floats(ScratchSlot::kColumns, static_cast<size_t>(std::min(chunk, m) * k));
  // Every chunk's product has the same B = W^T: packed once here (a transposing gather, 7 % of a
  // 3x3 input gradient when each chunk packed it again), unless it is too large to keep.
  GemmArgs g;
  g.n = k; g.k = s.out_c;
  g.b = w; g.ldb = s.out_c; g.trans_b = true;
  g.c = cols; g.ldc = k;
  const PackedBLayout wt_layout = packed_b_layout(k, s.out_c);
  float* wt = nullptr;
  if (m > chunk && wt_layout.floats() <= kGemmPackedBFloats) {
    wt = scratch_floats(ScratchSlot::kPackedB, static_cast<size_t>(wt_layout.floats()));
    pack_b(g, wt);
  }
  for (int64_t m0 = 0; m0 < m; m0 += chunk) {
    const int64_t mc = std::min(chunk, m - m0);
    // Columns of this chunk: dy rows times W^T.
    g.m = mc;
    g.a = dy + m0 * s.out_c; g.lda = s.out_c;
    sgemm_packed_b(g, wt);
    // col2im as a gather: each input row sums the column entries of this chunk's output pixels
    // whose windows cover it, so rows run in parallel with no write conflicts, and every pixel's
    // sum has one fixed order whatever the thread count.
    const int64_t first_row = m0 / s.out_w, last_row = (m0 + mc - 1) / s.out_w;  // (b, oy) rows
    const int64_t b_first = first_row / s.out_h, b_last = last_row / s.out_h;
    parallel_for((b_last - b_first + 1) * s.in_h, 4, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        col2im_row(s, cols, m0, mc, b_first + r / s.in_h, r % s.in_h, dx);
      }
    });
  }
}

void conv2d_backprop_filter(const Conv2DShape& s, const float* x, const float* dy, float* dw) {
  const int64_t m = s.batch * s.out_h * s.out_w;
  const int64_t k = s.filter_h * s.filter_w * s.in_c;
  // dW [K, out_c] = im2col(x)^T [K, M] * dy [M, out_c], straight into HWIO: the transposed
  // im2col panels are read from x where they lie (no column matrix), dy packs as plain B strips.
  // Pixels go in chunks so that packed dy stays within the GEMM's B budget.
  if (winograd_applies(s, true)) {
    conv2d_winograd_filter_gradient(s, x, dy, dw);
    return;
  }
  const bool pointwise = is_pointwise(s);
  const int64_t chunk = std::max<int64_t>(256, kGemmPackedBFloats / std::max<int64_t>(s.out_c, 1));
  if (m == 0) std::fill(dw, dw + k * s.out_c, 0.0f);  // no output pixel: no product writes dw
  const int64_t mr = gemm_panel_rows(s.out_c);
  if (!pointwise && s.in_c < mr && m > 0) {
    const FilterRows ctx{&s, x, (s.filter_w * s.in_c + mr - 1) / mr * mr};
    const int64_t run = s.filter_w * s.in_c;
    float* const grouped = scratch_floats(ScratchSlot::kColumns, static_cast<size_t>(s.filter_h * ctx.group * s.out_c));
    for (int64_t m0 = 0; m0 < m; m0 += chunk) {
      const int64_t mc = std::min(chunk, m - m0);
      sgemm_gathered(s.filter_h * ctx.group, s.out_c, mc, gather_filter_rows, &ctx, dy + m0 * s.out_c, s.out_c, grouped,
                     s.out_c, m0 > 0);
    }
    for (int64_t ky = 0; ky < s.filter_h; ++ky) {
      std::memcpy(dw + ky * run * s.out_c, grouped + ky * ctx.group * s.out_c, static_cast<size_t>(run * s.out_c) * sizeof(float));
    }
    return;
  }
  for (int64_t m0 = 0; m0 < m; m0 += chunk) {
    const int64_t mc = std::min(chunk, m - m0);
    if (pointwise) {  // 1x1, stride 1, no padding: x is its own column matrix
      GemmArgs g;
      g.m = k; g.n = s.out_c; g.k = mc;
      g.a = x + m0 * k; g.lda = k; g.trans_a = true;
      g.b = dy + m0 * s.out_c; g.ldb = s.out_c;
      g.c = dw; g.ldc = s.out_c;
      g.accumulate = m0 > 0;
      sgemm(g);
    } else {
      const Im2col ctx{&s, x};
      sgemm_gathered(k, s.out_c, mc, gather_im2col_transposed, &ctx, dy + m0 * s.out_c, s.out_c, dw, s.out_c, m0 > 0);
    }
  }
}

}  // namespace retinanet
