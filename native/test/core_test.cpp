// Test driver for the C++ core without Node: every op on random and edge-case inputs against
// brute-force references written here. Built and run under AddressSanitizer and
// UndefinedBehaviorSanitizer by CI (ctest); prints "N passed, N failed".
#include <algorithm>
#include <cstring>
#include <limits>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../core/anchors.h"
#include "../core/box_coding.h"
#include "../core/box_geometry.h"
#include "../core/box_iou.h"
#include "../accel/elementwise.h"
#include "../accel/conv2d.h"
#include "../core/focal_loss.h"
#include "../accel/gemm.h"
#include "../accel/gemm_bf16.h"
#include "../accel/group_norm.h"
#include "../core/match.h"
#include "../accel/max_pool.h"
#include "../core/nms.h"
#include "../core/postprocess.h"
#include "../accel/reduce_sum.h"
#include "../accel/sgd.h"
#include "../core/targets.h"
#include "../runtime/cpu_isa.h"
#include "../runtime/thread_pool.h"

using namespace retinanet;

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

std::mt19937 rng(12345);
float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
int randint(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi - 1)(rng); }

std::vector<float> boxes(int n, float size, float min_side, float max_side) {
  std::vector<float> b(static_cast<size_t>(n) * 4);
  for (int i = 0; i < n; ++i) {
    const float w = uniform(min_side, max_side), h = uniform(min_side, max_side);
    const float x = uniform(0, size), y = uniform(0, size);
    b[4 * i] = x; b[4 * i + 1] = y; b[4 * i + 2] = x + w; b[4 * i + 3] = y + h;
  }
  return b;
}

void test_focal_loss() {
  for (int k : {1, 3, 80, 17}) {
    const int n = 257;
    std::vector<float> x(static_cast<size_t>(n) * k);
    for (auto& v : x) v = uniform(-100, 100);
    std::vector<int32_t> labels(n);
    for (auto& l : labels) l = randint(-2, k);
    for (FocalKind kind : {FocalKind::kFocal, FocalKind::kFocalStar}) {
      for (float gamma : {0.0f, 0.5f, 1.0f, 2.0f, 5.0f}) {
        FocalLossParams p;
        p.kind = kind;
        p.gamma = kind == FocalKind::kFocalStar && gamma == 0.0f ? 1.0f : gamma;
        p.beta = 0.5f;
        std::vector<float> g(x.size(), -7.0f);
        double loss = 0;
        const Status s = focal_loss_cpu(x.data(), labels.data(), n, k, p, &loss, g.data());
        double ref = 0;
        bool grad_ok = true;
        for (int i = 0; i < n; ++i) {
          if (labels[i] == -2) {
            for (int j = 0; j < k; ++j) grad_ok &= g[i * k + j] == 0.0f;
            continue;
          }
          for (int j = 0; j < k; ++j) {
            const double xv = x[i * k + j];
            const double y = labels[i] == j ? 1 : -1;
            const double at = y > 0 ? p.alpha : 1 - p.alpha;
            const double softplus = [](double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }(-y * xv);
            double term, dterm;
            if (kind == FocalKind::kFocal) {
              const double logpt = -softplus, pt = std::exp(logpt), q = 1 / (1 + std::exp(y * xv));
              term = -at * std::pow(q, p.gamma) * logpt;
              dterm = at * y * std::pow(q, p.gamma) * (p.gamma * pt * logpt + pt - 1);
            } else {
              const double z = p.gamma * y * xv + p.beta;
              const double sp = z > 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
              term = at * sp / p.gamma;
              dterm = -at * y / (1 + std::exp(z));
            }
            ref += term;
            grad_ok &= std::fabs(g[i * k + j] - dterm) <= 1e-5 + 1e-4 * std::fabs(dterm);
          }
        }
        check(s.is_ok() && std::fabs(loss - ref) <= 1e-5 * std::fabs(ref) + 1e-3, "focal loss value k=" + std::to_string(k));
        check(grad_ok, "focal loss gradient k=" + std::to_string(k));
      }
    }
  }
  std::vector<float> bad = {1.0f, NAN};
  std::vector<int32_t> lab = {0};
  double loss;
  check(!focal_loss_cpu(bad.data(), lab.data(), 1, 2, FocalLossParams{}, &loss, nullptr).is_ok(), "NaN logit rejected");
}

void test_iou_match_targets() {
  for (int trial = 0; trial < 20; ++trial) {
    const int n = randint(0, 400), m = randint(0, 12);
    std::vector<float> a = boxes(n, 200, 0, 80), g = boxes(m, 200, 0, 120);
    if (m > 2) std::copy(g.begin(), g.begin() + 4, g.begin() + 8);  // a duplicate box
    std::vector<float> iou(static_cast<size_t>(n) * m);
    box_iou_cpu(a.data(), n, g.data(), m, iou.data());
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        ok &= iou[i * m + j] == box_iou_pair(&a[4 * i], box_area(&a[4 * i]), &g[4 * j], box_area(&g[4 * j]));
      }
    }
    check(ok, "box_iou");
    MatchParams mp;
    std::vector<int32_t> matches(n);
    std::vector<float> max_iou(n);
    match_anchors_cpu(a.data(), n, g.data(), m, mp, matches.data(), max_iou.data());
    // Brute force Matcher over the IoU matrix.
    std::vector<float> gt_best(m, 0.0f);
    for (int i = 0; i < n; ++i) for (int j = 0; j < m; ++j) gt_best[j] = std::max(gt_best[j], iou[i * m + j]);
    ok = true;
    for (int i = 0; i < n; ++i) {
      int best = 0;
      float v = m ? iou[i * m] : 0.0f;
      for (int j = 1; j < m; ++j) if (iou[i * m + j] > v) { v = iou[i * m + j]; best = j; }
      int want = m == 0 ? -1 : v >= mp.fg_iou ? best : v < mp.bg_iou ? -1 : -2;
      for (int j = 0; j < m; ++j) if (gt_best[j] > 0 && iou[i * m + j] == gt_best[j]) want = best;
      ok &= matches[i] == want && max_iou[i] == (m ? v : 0.0f);
    }
    check(ok, "match_anchors n=" + std::to_string(n) + " m=" + std::to_string(m));
    std::vector<int32_t> gl(m), labels(n), mt(n);
    for (auto& l : gl) l = randint(0, 80);
    std::vector<float> tg(static_cast<size_t>(n) * 4), scratch(n);
    // Anchors must have positive sides to be encoded.
    for (int i = 0; i < n; ++i) { a[4 * i + 2] = std::max(a[4 * i + 2], a[4 * i] + 1); a[4 * i + 3] = std::max(a[4 * i + 3], a[4 * i + 1] + 1); }
    const int64_t fg = retinanet_targets_cpu(a.data(), n, g.data(), gl.data(), m, mp, BoxCoderWeights{}, labels.data(),
                                             tg.data(), mt.data(), scratch.data());
    int64_t count = 0;
    ok = true;
    for (int i = 0; i < n; ++i) {
      if (mt[i] >= 0) {
        ++count;
        ok &= labels[i] == gl[mt[i]] && std::isfinite(tg[4 * i]) && std::isfinite(tg[4 * i + 3]);
      } else {
        ok &= labels[i] == mt[i] && tg[4 * i] == 0.0f;
      }
    }
    check(ok && fg == count, "retinanet_targets");
  }
}

void test_nms() {
  for (int n : {0, 1, 5, 300, 700, 2000}) {
    for (double thr : {0.0, 0.5, 1.0}) {
      std::vector<float> b = boxes(n, 300, 0, 60), sc(n);
      for (auto& s : sc) s = static_cast<float>(randint(0, 50)) / 50.0f;  // many equal scores
      std::vector<int32_t> groups(n);
      for (auto& g : groups) g = randint(0, 3);
      NmsParams p;
      p.iou_threshold = thr;
      const std::vector<int32_t> keep = batched_nms_cpu(b.data(), sc.data(), groups.data(), n, p);
      // Brute force: per group, greedy in (score desc, index asc) order.
      std::vector<int32_t> order(n);
      for (int i = 0; i < n; ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](int x, int y) { return sc[x] > sc[y] || (sc[x] == sc[y] && x < y); });
      std::vector<int32_t> want;
      for (int i : order) {
        bool ok = true;
        for (int k : want) {
          if (groups[k] == groups[i] &&
              static_cast<double>(box_iou_pair(&b[4 * i], box_area(&b[4 * i]), &b[4 * k], box_area(&b[4 * k]))) > thr) {
            ok = false;
            break;
          }
        }
        if (ok) want.push_back(i);
      }
      check(keep == want, "batched_nms n=" + std::to_string(n) + " thr=" + std::to_string(thr));
    }
  }
}

// A random convolution: batch 1-2, sides 1 to max_side - 1, channels below max_in / max_out,
// filters 1-3, strides 1-2, padding below the filter; false when it has no output pixel.
bool random_conv_shape(Conv2DShape& s, int max_side, int max_in, int max_out) {
  s = Conv2DShape{randint(1, 3), randint(1, max_side), randint(1, max_side), randint(1, max_in), randint(1, 4), randint(1, 4),
                  randint(1, max_out), randint(1, 3), randint(1, 3), 0, 0, 0, 0};
  s.pad_top = randint(0, s.filter_h);
  s.pad_left = randint(0, s.filter_w);
  s.out_h = (s.in_h + 2 * s.pad_top - s.filter_h) / s.stride_h + 1;
  s.out_w = (s.in_w + 2 * s.pad_left - s.filter_w) / s.stride_w + 1;
  return s.out_h >= 1 && s.out_w >= 1;
}

void test_gemm_conv() {
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {9, 35, 300}, {150, 40, 7}, {0, 3, 3}, {3, 3, 0}}) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      std::vector<float> A(static_cast<size_t>(m) * k), B(static_cast<size_t>(k) * n), C(static_cast<size_t>(m) * n, 1.0f);
      for (auto& v : A) v = uniform(-1, 1);
      for (auto& v : B) v = uniform(-1, 1);
      GemmArgs g;
      g.m = m; g.n = n; g.k = k; g.a = A.data(); g.lda = ta ? m : k; g.trans_a = ta;
      g.b = B.data(); g.ldb = tb ? k : n; g.trans_b = tb; g.c = C.data(); g.ldc = n; g.accumulate = true;
      sgemm(g);
      double err = 0;
      for (int i = 0; i < m; ++i) for (int j = 0; j < n; ++j) {
        double s = 1;
        for (int q = 0; q < k; ++q) s += double(ta ? A[q * m + i] : A[i * k + q]) * (tb ? B[j * k + q] : B[q * n + j]);
        err = std::max(err, std::fabs(s - C[i * n + j]));
      }
      check(err < 1e-4, "sgemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    }
  }
  // A transposed (read in place, panel by panel, a last short panel packed) with the epilogue,
  // over several tasks and depth blocks.
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{{1003, 37, 300}, {16, 64, 513}}) {
    std::vector<float> A(static_cast<size_t>(m) * k), B(static_cast<size_t>(k) * n), C(static_cast<size_t>(m) * n);
    std::vector<float> bias(static_cast<size_t>(n)), res(C.size());
    for (auto* v : {&A, &B, &bias, &res}) for (auto& x : *v) x = uniform(-1, 1);
    GemmArgs g;
    g.m = m; g.n = n; g.k = k; g.a = A.data(); g.lda = m; g.trans_a = true;
    g.b = B.data(); g.ldb = n; g.c = C.data(); g.ldc = n;
    g.epilogue.bias = bias.data();
    g.epilogue.residual = res.data();
    g.epilogue.activation = Activation::kRelu;
    sgemm(g);
    double err = 0;
    for (int i = 0; i < m; ++i) for (int j = 0; j < n; ++j) {
      double s = bias[j] + double(res[i * n + j]);
      for (int q = 0; q < k; ++q) s += double(A[q * m + i]) * B[q * n + j];
      err = std::max(err, std::fabs(std::max(s, 0.0) - C[i * n + j]));
    }
    check(err < 1e-4, "sgemm with A transposed and an epilogue " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  }
  {  // Depth 0: the product is zero, the epilogue still applies (bias, residual, activation).
    std::vector<float> bias = {1.0f, -2.0f, 0.5f, -0.25f}, res(12), C(12, 7.0f);
    for (auto& v : res) v = uniform(-1, 1);
    GemmArgs g;
    g.m = 3; g.n = 4; g.k = 0; g.c = C.data(); g.ldc = 4;
    g.epilogue.bias = bias.data();
    g.epilogue.residual = res.data();
    g.epilogue.activation = Activation::kRelu;
    sgemm(g);
    bool ok = true;
    for (int i = 0; i < 12; ++i) ok = ok && C[i] == std::max(0.0f, bias[i % 4] + res[i]);
    check(ok, "sgemm k = 0 with an epilogue");
  }
  // Forward, both gradients and the fused epilogue of one shape against double sums.
  const auto conv_trial = [&](const Conv2DShape& s, const std::string& trial) {
    const int64_t xs = s.batch * s.in_h * s.in_w * s.in_c, ws = s.filter_h * s.filter_w * s.in_c * s.out_c;
    const int64_t ys = s.batch * s.out_h * s.out_w * s.out_c;
    std::vector<float> x(xs), w(ws), y(ys), dy(ys), dx(xs), dw(ws);
    for (auto& v : x) v = uniform(-1, 1);
    for (auto& v : w) v = uniform(-1, 1);
    for (auto& v : dy) v = uniform(-1, 1);
    conv2d_forward(s, x.data(), w.data(), Epilogue{}, y.data());
    conv2d_backprop_input(s, dy.data(), w.data(), dx.data());
    conv2d_backprop_filter(s, x.data(), dy.data(), dw.data());
    std::vector<double> ry(ys, 0), rdx(xs, 0), rdw(ws, 0);
    for (int64_t b = 0; b < s.batch; ++b) for (int64_t oy = 0; oy < s.out_h; ++oy) for (int64_t ox = 0; ox < s.out_w; ++ox)
      for (int64_t ky = 0; ky < s.filter_h; ++ky) for (int64_t kx = 0; kx < s.filter_w; ++kx) {
        const int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
        if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
        for (int64_t ci = 0; ci < s.in_c; ++ci) for (int64_t co = 0; co < s.out_c; ++co) {
          const int64_t xi = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ci;
          const int64_t wi = ((ky * s.filter_w + kx) * s.in_c + ci) * s.out_c + co;
          const int64_t yi = ((b * s.out_h + oy) * s.out_w + ox) * s.out_c + co;
          ry[yi] += double(x[xi]) * w[wi];
          rdx[xi] += double(dy[yi]) * w[wi];
          rdw[wi] += double(dy[yi]) * x[xi];
        }
      }
    double e1 = 0, e2 = 0, e3 = 0;
    for (int64_t i = 0; i < ys; ++i) e1 = std::max(e1, std::fabs(ry[i] - y[i]));
    for (int64_t i = 0; i < xs; ++i) e2 = std::max(e2, std::fabs(rdx[i] - dx[i]));
    for (int64_t i = 0; i < ws; ++i) e3 = std::max(e3, std::fabs(rdw[i] - dw[i]));
    // Float32 sums of k products of magnitude <= 1: the error bound grows with the depth.
    const double tol = 1e-4 * std::max<double>(1.0, double(s.filter_h * s.filter_w * std::max(s.in_c, s.out_c)) / 64.0);
    check(e1 < tol && e2 < tol && e3 < 10 * tol, "conv2d forward/backward trial " + trial);
    // The fused epilogue (bias, each activation, residual) against the plain output + scalar code.
    std::vector<float> bias(s.out_c), res(ys), yf(ys);
    for (auto& v : bias) v = uniform(-1, 1);
    for (auto& v : res) v = uniform(-1, 1);
    for (int act = 0; act < 4; ++act) {
      Epilogue e;
      e.bias = bias.data();
      e.activation = static_cast<Activation>(act);
      e.leaky_alpha = 0.3f;
      e.residual = act % 2 ? res.data() : nullptr;
      conv2d_forward(s, x.data(), w.data(), e, yf.data());
      double ef = 0;
      for (int64_t i = 0; i < ys; ++i) {
        double v = double(y[i]) + bias[i % s.out_c];
        if (e.residual) v += res[i];
        if (act == 1) v = std::max(v, 0.0);
        if (act == 2) v = std::min(std::max(v, 0.0), 6.0);
        if (act == 3) v = v > 0 ? v : 0.3 * v;
        ef = std::max(ef, std::fabs(v - yf[i]));
      }
      check(ef < 1e-5, "conv2d fused epilogue " + std::to_string(act) + " trial " + trial);
    }
  };
  // Many small shapes: few channels with wide filters and padding reach every im2col path (runs
  // of several taps in one copy, panels of several taps gathered inside or at the border).
  for (int trial = 0; trial < 40; ++trial) {
    Conv2DShape s;
    if (random_conv_shape(s, 12, 9, 9)) conv_trial(s, std::to_string(trial));
  }
  // 3x3 stride 1 with 64+ channels in, 8+ out: the Winograd path (forward and input gradient),
  // odd and even sizes, padding 0-2, tiles cut by the image's edge, outputs narrower than a vector.
  for (int trial = 0; trial < 8; ++trial) {
    Conv2DShape s{randint(1, 2), randint(2, 9), randint(2, 9), randint(64, 72), 3, 3,
                  trial % 2 ? randint(8, 40) : randint(64, 72), 1, 1, 0, 0, 0, 0};
    s.pad_top = randint(0, 2);
    s.pad_left = randint(0, 2);
    s.out_h = s.in_h + 2 * s.pad_top - 2;
    s.out_w = s.in_w + 2 * s.pad_left - 2;
    if (s.out_h < 2 || s.out_w < 2) continue;
    conv_trial(s, "winograd " + std::to_string(trial));
  }
}

// The bfloat16 forward convolution (where the CPU has AVX512-BF16): random shapes, depths across
// and within the 512-deep blocks, odd depths, partial tiles, with bias, residual and ReLU, against
// double sums of the inputs rounded by to_bfloat16 (checked first against hand-rounded values).
void test_bf16_conv() {
  check(to_bfloat16(1.0f) == 0x3f80 && to_bfloat16(-2.0f) == 0xc000, "to_bfloat16 exact values");
  check(to_bfloat16(1.00390625f) == 0x3f80 && to_bfloat16(1.01171875f) == 0x3f82, "to_bfloat16 ties to even");
  check(to_bfloat16(1.0f + 1.0f / 256 + 1.0f / 4096) == 0x3f81, "to_bfloat16 rounds up past the tie");
  check(to_bfloat16(1e-40f) == 0 && to_bfloat16(-1e-40f) == 0x8000, "to_bfloat16 denormals to signed zero");
  check(to_bfloat16(std::numeric_limits<float>::quiet_NaN()) != 0x7f80, "to_bfloat16 keeps NaN a NaN");
  if (!bf16_gemm_available()) {
    std::printf("  (bfloat16 convolution trials skipped: no AVX512-BF16 here)\n");
    return;
  }
  const auto rounded = [](float f) {
    const uint32_t u = uint32_t{to_bfloat16(f)} << 16;
    float r;
    std::memcpy(&r, &u, sizeof r);
    return r;
  };
  for (int trial = 0; trial < 12; ++trial) {
    Conv2DShape s;
    if (!random_conv_shape(s, 10, 141, 71)) continue;
    const int64_t xs = s.batch * s.in_h * s.in_w * s.in_c, ws = s.filter_h * s.filter_w * s.in_c * s.out_c;
    const int64_t ys = s.batch * s.out_h * s.out_w * s.out_c;
    std::vector<float> x(xs), w(ws), y(ys), bias(s.out_c), res(ys);
    for (auto& v : x) v = uniform(-2, 2);
    for (auto& v : w) v = uniform(-1, 1);
    for (auto& v : bias) v = uniform(-1, 1);
    for (auto& v : res) v = uniform(-1, 1);
    Epilogue e;
    e.bias = bias.data();
    e.residual = res.data();
    e.activation = Activation::kRelu;
    conv2d_forward(s, x.data(), w.data(), e, y.data(), true);
    double worst = 0;
    for (int64_t b = 0; b < s.batch; ++b) for (int64_t oy = 0; oy < s.out_h; ++oy) for (int64_t ox = 0; ox < s.out_w; ++ox)
      for (int64_t co = 0; co < s.out_c; ++co) {
        double sum = 0, mag = 0;
        for (int64_t ky = 0; ky < s.filter_h; ++ky) for (int64_t kx = 0; kx < s.filter_w; ++kx) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
          if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
          for (int64_t ci = 0; ci < s.in_c; ++ci) {
            const double p = double(rounded(x[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ci])) *
                             rounded(w[((ky * s.filter_w + kx) * s.in_c + ci) * s.out_c + co]);
            sum += p;
            mag += std::fabs(p);
          }
        }
        const int64_t yi = ((b * s.out_h + oy) * s.out_w + ox) * s.out_c + co;
        const double want = std::max(0.0, sum + bias[co] + res[yi]);
        worst = std::max(worst, std::fabs(want - y[yi]) / (1e-6 * (mag + std::fabs(want)) + 1e-6));
      }
    check(worst <= 1, "bfloat16 conv trial " + std::to_string(trial) + " (worst " + std::to_string(worst) + " of the tolerance)");
  }
}

void test_anchors_postprocess() {
  AnchorParams ap;
  ap.scales = {1.0f, 1.25992105f, 1.58740105f};
  ap.aspect_ratios = {0.5f, 1.0f, 2.0f};
  std::vector<AnchorLevelSpec> levels = {{8, 8, 32, 3, 5}, {16, 16, 64, 2, 3}};
  std::vector<float> anchors((3 * 5 + 2 * 3) * 9 * 4);
  generate_anchors_cpu(levels, ap, anchors.data());
  check(anchors[0] == -23 && anchors[1] == -11 && anchors[(5 * 9 + 0) * 4] == -23 && anchors[(5 * 9) * 4 + 1] == 8 - 11,
        "anchors: first cell and the next row");
  const int64_t n = 15 * 9, k = 4;
  std::vector<float> logits(2 * n * k), deltas(2 * n * 4);
  for (auto& v : logits) v = uniform(-6, 3);
  for (auto& v : deltas) v = uniform(-1, 1);
  std::vector<PostprocessLevel> lv = {{logits.data(), deltas.data(), anchors.data(), n}};
  PostprocessParams p;
  p.top_k = 20;
  p.max_detections = 7;
  std::vector<Detections> out;
  const Status s = postprocess_cpu(lv, k, {{20.0f, 40.0f}, {10.0f, 10.0f}}, p, out);
  bool ok = s.is_ok() && out.size() == 2;
  for (const auto& d : out) {
    ok &= d.scores.size() <= 7 && d.boxes.size() == d.scores.size() * 4;
    for (size_t i = 1; i < d.scores.size(); ++i) ok &= d.scores[i - 1] >= d.scores[i];
  }
  for (size_t i = 0; ok && i < out[1].boxes.size(); i += 4) ok &= out[1].boxes[i + 2] <= 10.0f && out[1].boxes[i] >= 0.0f;
  check(ok, "postprocess shapes, order, clipping");
  logits[5] = NAN;
  check(!postprocess_cpu(lv, k, {{20.0f, 40.0f}, {10.0f, 10.0f}}, p, out).is_ok(), "postprocess rejects NaN");
}


void test_group_norm() {
  struct Case { int64_t b, h, w, c, g; };
  const std::vector<Case> cases = {{1, 1, 1, 1, 1}, {2, 3, 5, 6, 3}, {1, 1, 1, 8, 8}, {3, 4, 4, 7, 1},
                                   {2, 9, 7, 32, 16}, {1, 40, 33, 24, 8}, {2, 2, 2, 130, 65}, {0, 3, 3, 4, 2}, {2, 0, 3, 4, 2}};
  for (const Case& k : cases) {
    const GroupNormShape s{k.b, k.h * k.w, k.c, k.g};
    const int64_t n = k.b * k.h * k.w * k.c, cg = k.c / k.g, per = k.h * k.w * cg;
    std::vector<float> x(n), dy(n), gamma(k.c), beta(k.c), y(n), dx(n), mean(k.b * k.g), rstd(k.b * k.g), dg(k.c), db(k.c);
    const float offset = uniform(-3, 3);
    for (auto& v : x) v = offset + uniform(-1, 1) * uniform(0.1f, 2);
    for (auto& v : dy) v = uniform(-1, 1);
    for (auto& v : gamma) v = uniform(-2, 2);
    for (auto& v : beta) v = uniform(-1, 1);
    const double eps = 1e-5;
    group_norm_forward(s, x.data(), gamma.data(), beta.data(), eps, y.data(), mean.data(), rstd.data());
    group_norm_backward(s, dy.data(), x.data(), mean.data(), rstd.data(), gamma.data(), dx.data(), dg.data(), db.data());
    // Brute force in double, straight from the definitions.
    double ey = 0, estat = 0, edx = 0, edgb = 0;
    std::vector<double> rdg(k.c, 0), rdb(k.c, 0);
    auto at = [&](int64_t b, int64_t p, int64_t ch) { return (b * k.h * k.w + p) * k.c + ch; };
    for (int64_t b = 0; b < k.b; ++b) {
      for (int64_t g = 0; g < k.g; ++g) {
        double m = 0, v = 0;
        for (int64_t p = 0; p < k.h * k.w; ++p) for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) m += x[at(b, p, ch)];
        m /= per;
        for (int64_t p = 0; p < k.h * k.w; ++p) for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) v += (x[at(b, p, ch)] - m) * (x[at(b, p, ch)] - m);
        v /= per;
        const double r = 1 / std::sqrt(v + eps);
        estat = std::max({estat, std::fabs(m - mean[b * k.g + g]), std::fabs(r - rstd[b * k.g + g]) / r});
        double a = 0, q = 0;
        for (int64_t p = 0; p < k.h * k.w; ++p) for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
          const int64_t i = at(b, p, ch);
          const double xh = (x[i] - m) * r;
          ey = std::max(ey, std::fabs(xh * gamma[ch] + beta[ch] - y[i]));
          a += double(gamma[ch]) * dy[i];
          q += double(gamma[ch]) * dy[i] * xh;
          rdg[ch] += double(dy[i]) * xh;
          rdb[ch] += dy[i];
        }
        for (int64_t p = 0; p < k.h * k.w; ++p) for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
          const int64_t i = at(b, p, ch);
          const double xh = (x[i] - m) * r;
          edx = std::max(edx, std::fabs(r * (gamma[ch] * dy[i] - a / per - xh * q / per) - dx[i]));
        }
      }
    }
    for (int64_t ch = 0; ch < k.c; ++ch) edgb = std::max({edgb, std::fabs(rdg[ch] - dg[ch]), std::fabs(rdb[ch] - db[ch])});
    const std::string name = "group_norm B" + std::to_string(k.b) + " HW" + std::to_string(k.h * k.w) + " C" +
                             std::to_string(k.c) + " G" + std::to_string(k.g);
    check(ey < 2e-4 && estat < 1e-5, name + " forward (err " + std::to_string(ey) + ")");
    check(edx < 1e-3 && edgb < 1e-5 * std::max<double>(1, std::sqrt(double(k.b * k.h * k.w))) * 10,
          name + " backward (dx err " + std::to_string(edx) + ", dgamma/dbeta err " + std::to_string(edgb) + ")");
    // The same bits with one thread and with three.
    const int saved = num_threads();
    std::vector<float> y1(n), dx1(n), m1(mean.size()), r1(rstd.size()), dg1(k.c), db1(k.c);
    set_num_threads(saved == 1 ? 3 : 1);
    group_norm_forward(s, x.data(), gamma.data(), beta.data(), eps, y1.data(), m1.data(), r1.data());
    group_norm_backward(s, dy.data(), x.data(), mean.data(), rstd.data(), gamma.data(), dx1.data(), dg1.data(), db1.data());
    set_num_threads(saved);
    auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
      return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    };
    check(same(y, y1) && same(mean, m1) && same(rstd, r1) && same(dx, dx1) && same(dg, dg1) && same(db, db1),
          name + " independent of the thread count");
  }
}

void test_max_pool() {
  const float inf = std::numeric_limits<float>::infinity();
  for (int trial = 0; trial < 60; ++trial) {
    Pool2DShape s{randint(1, 3), randint(1, 11), randint(1, 11), randint(1, 20), randint(1, 6), randint(1, 6),
                  randint(1, 4), randint(1, 4), 0, 0, 0, 0};
    s.pad_top = randint(0, s.filter_h + 1);
    s.pad_left = randint(0, s.filter_w + 1);
    const int64_t bottom = randint(0, s.filter_h + 1), right = randint(0, s.filter_w + 1);
    s.out_h = (s.in_h + s.pad_top + bottom - s.filter_h) / s.stride_h + 1;
    s.out_w = (s.in_w + s.pad_left + right - s.filter_w) / s.stride_w + 1;
    if (s.in_h + s.pad_top + bottom < s.filter_h || s.in_w + s.pad_left + right < s.filter_w) continue;
    const int64_t xs = s.batch * s.in_h * s.in_w * s.channels, ys = s.batch * s.out_h * s.out_w * s.channels;
    std::vector<float> x(xs), y(ys), dy(ys), dx(xs);
    // Few distinct values (ties), and some NaN, -inf and signed zeros.
    for (auto& v : x) {
      const int r = randint(0, 40);
      v = r == 0 ? NAN : r == 1 ? -inf : r == 2 ? -0.0f : r == 3 ? 0.0f : float(randint(-4, 5)) * 0.5f;
    }
    for (auto& v : dy) v = uniform(-1, 1);
    max_pool_forward(s, x.data(), y.data());
    max_pool_backward(s, x.data(), dy.data(), dx.data());
    std::vector<double> rdx(xs, 0.0);
    bool fwd = true;
    for (int64_t b = 0; b < s.batch; ++b) for (int64_t oy = 0; oy < s.out_h; ++oy) for (int64_t ox = 0; ox < s.out_w; ++ox)
      for (int64_t c = 0; c < s.channels; ++c) {
        float best = -inf;
        int64_t arg = -1;
        for (int64_t ky = 0; ky < s.filter_h; ++ky) for (int64_t kx = 0; kx < s.filter_w; ++kx) {
          const int64_t iy = oy * s.stride_h - s.pad_top + ky, ix = ox * s.stride_w - s.pad_left + kx;
          if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
          const int64_t i = ((b * s.in_h + iy) * s.in_w + ix) * s.channels + c;
          if (x[i] > best) { best = x[i]; arg = i; }
        }
        const int64_t o = ((b * s.out_h + oy) * s.out_w + ox) * s.channels + c;
        fwd &= std::memcmp(&best, &y[o], sizeof(float)) == 0;
        if (arg >= 0) rdx[arg] += dy[o];  // windows in (oy, ox) order, as the kernel sums
      }
    bool bwd = true;
    for (int64_t i = 0; i < xs; ++i) {
      const float want = static_cast<float>(rdx[i]);
      bwd &= std::memcmp(&want, &dx[i], sizeof(float)) == 0;
    }
    const std::string name = "max_pool trial " + std::to_string(trial);
    check(fwd, name + " forward");
    check(bwd, name + " backward");
  }
}


uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// JavaScript's result for one element: the exact op in double, rounded once to float32;
// Math.max / Math.min with V8's default NaN (0xffc00000).
float js_binary(BinaryOp op, float a, float b) {
  const double x = a, y = b;
  float nan;
  const uint32_t nan_bits = 0xffc00000u;
  std::memcpy(&nan, &nan_bits, sizeof nan);
  switch (op) {
    case BinaryOp::kAdd: return static_cast<float>(x + y);
    case BinaryOp::kSub: return static_cast<float>(x - y);
    case BinaryOp::kMul: return static_cast<float>(x * y);
    case BinaryOp::kDiv: return static_cast<float>(x / y);
    case BinaryOp::kMax:
      if (std::isnan(a) || std::isnan(b)) return nan;
      if (a == b) return std::signbit(a) ? b : a;  // +0 beats -0
      return a > b ? a : b;
    case BinaryOp::kMin:
      if (std::isnan(a) || std::isnan(b)) return nan;
      if (a == b) return std::signbit(a) ? a : b;  // -0 beats +0
      return a < b ? a : b;
  }
  return 0;
}

float special_value() {
  const float inf = std::numeric_limits<float>::infinity();
  const int r = randint(0, 24);
  if (r == 0) return NAN;
  if (r == 1) return inf;
  if (r == 2) return -inf;
  if (r == 3) return -0.0f;
  if (r == 4) return 0.0f;
  if (r == 5) return 3e38f;  // products and sums overflow
  if (r == 6) return 1e-40f;  // subnormal
  return uniform(-3, 3);
}

void test_elementwise() {
  const BinaryOp all[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv, BinaryOp::kMax, BinaryOp::kMin};
  for (int trial = 0; trial < 300; ++trial) {
    // An output shape, then a and b as its suffixes with some dimensions set to 1.
    const int rank = randint(0, 6);
    std::vector<int64_t> out_shape(rank);
    for (auto& d : out_shape) d = randint(0, 12) == 0 ? 0 : randint(1, 7);
    auto side = [&]() {
      std::vector<int64_t> s(out_shape.begin() + randint(0, rank + 1), out_shape.end());
      for (auto& d : s) if (randint(0, 3) == 0) d = 1;
      return s;
    };
    const std::vector<int64_t> as = side(), bs = side();
    std::vector<int64_t> shape;
    check(broadcast_shape(as, bs, &shape), "broadcast_shape of suffixes");
    int64_t na = 1, nb = 1, n = 1;
    for (int64_t d : as) na *= d;
    for (int64_t d : bs) nb *= d;
    for (int64_t d : shape) n *= d;
    std::vector<float> a(na), b(nb), out(n);
    for (auto& v : a) v = special_value();
    for (auto& v : b) v = special_value();
    const BinaryOp op = all[trial % 6];
    check(binary_op(op, as, a.data(), bs, b.data(), out.data()).is_ok(), "binary_op ok");
    // Reference: each output index mapped back to a and b by brute force.
    bool same = true;
    const int r = static_cast<int>(shape.size());
    for (int64_t e = 0; e < n; ++e) {
      std::vector<int64_t> idx(r);
      int64_t rest = e;
      for (int d = r - 1; d >= 0; --d) {
        idx[d] = rest % shape[d];
        rest /= shape[d];
      }
      auto offset = [&](const std::vector<int64_t>& s) {
        int64_t o = 0;
        const int p = r - static_cast<int>(s.size());
        for (size_t d = 0; d < s.size(); ++d) o = o * s[d] + (s[d] == 1 ? 0 : idx[p + d]);
        return o;
      };
      const float x = a[offset(as)], y = b[offset(bs)];
      const float want = js_binary(op, x, y);
      // Two NaN operands: JavaScript itself may give either one's bits; only NaN-ness is fixed.
      const bool both_nan = std::isnan(x) && std::isnan(y);
      same &= both_nan ? std::isnan(out[e]) : bits_of(want) == bits_of(out[e]);
    }
    check(same, "binary_op trial " + std::to_string(trial) + " (op " + std::to_string(static_cast<int>(op)) + ")");
  }
  // NaN operands keep their bits through + - * / (as V8's double arithmetic does).
  {
    float payload;
    const uint32_t pb = 0x7fc12345u;
    std::memcpy(&payload, &pb, sizeof payload);
    const std::vector<int64_t> s{3};
    std::vector<float> a{payload, 1.0f, -0.0f}, b{2.0f, payload, 0.0f}, out(3);
    for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv}) {
      binary_op(op, s, a.data(), s, b.data(), out.data());
      check(bits_of(out[0]) == pb && bits_of(out[1]) == pb, "binary_op passes a NaN operand's bits");
    }
    binary_op(BinaryOp::kMax, s, a.data(), s, b.data(), out.data());
    check(bits_of(out[0]) == 0xffc00000u && bits_of(out[2]) == 0u, "max: default NaN, max(-0, +0) = +0");
    binary_op(BinaryOp::kMin, s, a.data(), s, b.data(), out.data());
    check(bits_of(out[1]) == 0xffc00000u && bits_of(out[2]) == 0x80000000u, "min: default NaN, min(-0, +0) = -0");
  }
  {
    std::vector<int64_t> shape;
    check(!broadcast_shape({2, 3}, {2}, &shape), "[2,3] and [2] do not broadcast");
    check(!broadcast_shape({0}, {3}, &shape), "[0] and [3] do not broadcast");
    check(broadcast_shape({0}, {1}, &shape) && shape == std::vector<int64_t>{0}, "[0] with [1] is [0]");
    check(broadcast_shape({}, {4, 1}, &shape) && shape == std::vector<int64_t>{4, 1}, "a scalar with [4, 1]");
    float x = 1, y = 2, z = 0;
    check(binary_op(BinaryOp::kAdd, {2, 3}, &x, {2}, &y, &z).code == Status::kRangeError, "binary_op refuses bad shapes");
  }
  // Relu and step over every kind of value, against JavaScript's definitions.
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t n = randint(0, 300000 / (trial + 1));
    std::vector<float> x(n), y(n), z(n);
    for (auto& v : x) v = special_value();
    const float alpha = trial % 3 == 0 ? 0.0f : uniform(-2, 2);
    unary_op(UnaryOp::kRelu, n, x.data(), 0.0f, y.data());
    unary_op(UnaryOp::kStep, n, x.data(), alpha, z.data());
    bool relu_ok = true, step_ok = true;
    for (int64_t i = 0; i < n; ++i) {
      const float relu = std::isnan(x[i]) ? -std::numeric_limits<float>::quiet_NaN() : (x[i] > 0 ? x[i] : 0.0f);
      const float step = std::isnan(x[i]) ? std::numeric_limits<float>::quiet_NaN() : (x[i] > 0 ? 1.0f : alpha);
      relu_ok &= bits_of(relu) == bits_of(y[i]);
      step_ok &= bits_of(step) == bits_of(z[i]);
    }
    check(relu_ok, "relu trial " + std::to_string(trial));
    check(step_ok, "step trial " + std::to_string(trial));
  }
  check(bits_of(-std::numeric_limits<float>::quiet_NaN()) == 0xffc00000u, "relu's NaN is 0xffc00000");
}

void test_reduce_sum() {
  for (int trial = 0; trial < 80; ++trial) {
    ReduceShape s{randint(0, 6), randint(0, 400), randint(0, 40)};
    if (trial % 4 == 0) s.inner = 1;   // row sums
    if (trial % 4 == 1) s.outer = 1;   // leading axes
    if (trial == 2) s = {1, 300000, 1};  // one long row
    if (trial == 3) s = {1, 20000, 37};  // many rows, partial lane block
    std::vector<float> x(s.outer * s.reduce * s.inner), out(s.outer * s.inner, -1.0f);
    for (auto& v : x) v = trial % 5 == 0 ? special_value() : uniform(-10, 10) * (randint(0, 2) ? 1e-3f : 1e3f);
    reduce_sum(s, x.data(), out.data());
    bool same = true;
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        double acc = 0.0;
        for (int64_t r = 0; r < s.reduce; ++r) acc += x[(o * s.reduce + r) * s.inner + i];
        const float want = static_cast<float>(acc), got = out[o * s.inner + i];
        same &= std::isnan(want) ? std::isnan(got) : bits_of(want) == bits_of(got);
      }
    }
    check(same, "reduce_sum trial " + std::to_string(trial) + " [" + std::to_string(s.outer) + ", " +
                    std::to_string(s.reduce) + ", " + std::to_string(s.inner) + "]");
  }
  // -0 sums to +0 (the sum starts from +0, as tfjs's); no rows gives 0.
  std::vector<float> z{-0.0f, -0.0f}, out(2, 5.0f);
  reduce_sum({1, 2, 1}, z.data(), out.data());
  check(bits_of(out[0]) == 0u, "sum of -0s is +0");
  reduce_sum({1, 0, 2}, nullptr, out.data());
  check(out[0] == 0.0f && out[1] == 0.0f, "empty sum is 0");
}

}  // namespace

void test_sgd() {
  for (int64_t n : {0, 1, 1000, 200003}) {
    std::vector<float> p(n), g(n), v(n);
    for (auto& x : p) x = uniform(-5, 5);
    for (auto& x : g) x = uniform(-100, 100);
    for (auto& x : v) x = uniform(-1, 1);
    const SgdParams s{0.01, 0.9, 1e-4, 0.3};
    std::vector<float> po(n), vo(n);
    sgd_momentum_update(n, p.data(), g.data(), v.data(), s, po.data(), vo.data());
    bool ok = true;
    double sq = 0.5;
    for (int64_t i = 0; i < n; ++i) {
      const float vi = static_cast<float>(0.9 * v[i] + (0.3 * g[i] + 1e-4 * double(p[i])));
      ok = ok && vo[i] == vi && po[i] == static_cast<float>(double(p[i]) - 0.01 * vi);
      sq += double(g[i]) * g[i];
    }
    check(ok, "sgd update n=" + std::to_string(n));
    check(sum_of_squares(n, g.data(), 0.5) == sq, "sum of squares n=" + std::to_string(n));
    // In place: outputs aliasing the inputs give the same values.
    sgd_momentum_update(n, p.data(), g.data(), v.data(), s, p.data(), v.data());
    check(p == po && v == vo, "sgd update in place n=" + std::to_string(n));
  }
}

// The CPU lists Linux writes in sysfs, and how many allowed CPUs share one L2 (the GEMM's blocking
// divides the L2 among them).
void test_cpu_topology() {
  check(parse_cpu_list("0-3,8,10-11\n") == std::vector<int>({0, 1, 2, 3, 8, 10, 11}), "parse_cpu_list: ranges and singles");
  check(parse_cpu_list("5") == std::vector<int>({5}), "parse_cpu_list: one CPU");
  for (const char* bad : {"", "a", "3-1", "1,,2", "-1", "1-", "99999999"}) {
    check(parse_cpu_list(bad).empty(), std::string("parse_cpu_list refuses '") + bad + "'");
  }
  // Two hyperthreads of one core; two cores without SMT; four CPUs as two SMT pairs, of which
  // the process may use one of each pair, then both of one; sysfs saying nothing.
  const auto pairs = [](int cpu) { return cpu < 2 ? std::string("0-1") : std::string("2-3"); };
  check(most_sharing({0, 1}, [](int) { return std::string("0-1"); }) == 2, "most_sharing: one core's two hyperthreads");
  check(most_sharing({0, 1}, [](int cpu) { return std::to_string(cpu); }) == 1, "most_sharing: two cores");
  check(most_sharing({0, 2}, pairs) == 1, "most_sharing: one thread of each core allowed");
  check(most_sharing({0, 1, 2}, pairs) == 2, "most_sharing: both threads of one core allowed");
  check(most_sharing({0, 1}, [](int) { return std::string(); }) == 1, "most_sharing: nothing known");
  check(l2_sharing_cpus() >= 1, "l2_sharing_cpus on this machine");
}

int main() {
  test_cpu_topology();
  // The Winograd trials must take that path whatever its default (read at the first convolution).
  setenv("RETINANET_WINOGRAD", "1", 1);
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    test_focal_loss();
    test_iou_match_targets();
    test_nms();
    test_gemm_conv();
    test_bf16_conv();
    test_anchors_postprocess();
    test_group_norm();
    test_max_pool();
    test_elementwise();
    test_reduce_sum();
    test_sgd();
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
