// matchAnchors on the CUDA device, batched over images with ragged ground truth. Ground truth is
// staged through shared memory in tiles; nothing of size n x m is stored. IoU by the core's
// box_iou without FMA contraction, so ties (low-quality matches) are decided on the CPU's bits.
#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "../core/box_geometry.h"
#include "box_coding.cuh"
#include "match.cuh"

namespace retinanet {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 256;

__global__ void __launch_bounds__(kThreads)
best_pass(const float* __restrict__ anchors, int64_t n, const float* __restrict__ gt,
          const int32_t* __restrict__ gt_off, float* __restrict__ max_iou, int32_t* __restrict__ arg,
          unsigned int* __restrict__ gt_best) {
  __shared__ float sx1[kTile], sy1[kTile], sx2[kTile], sy2[kTile], sarea[kTile];
  __shared__ unsigned int sbest[kTile];
  const int img = blockIdx.y;
  const int32_t g0 = gt_off[img];
  const int32_t m = gt_off[img + 1] - g0;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const bool valid = i < n;
  float ax1 = 0.0f, ay1 = 0.0f, ax2 = 0.0f, ay2 = 0.0f, area = 0.0f;
  if (valid) {
    const float* a = anchors + 4 * i;
    ax1 = a[0];
    ay1 = a[1];
    ax2 = a[2];
    ay2 = a[3];
    area = box_area(a);
  }
  float best = -1.0f;
  int32_t best_j = 0;
  for (int32_t t0 = 0; t0 < m; t0 += kTile) {  // block-uniform
    const int32_t tm = m - t0 < kTile ? m - t0 : kTile;
    __syncthreads();
    for (int32_t q = threadIdx.x; q < tm; q += kThreads) {
      const float* g = gt + 4 * static_cast<int64_t>(g0 + t0 + q);
      sx1[q] = g[0];
      sy1[q] = g[1];
      sx2[q] = g[2];
      sy2[q] = g[3];
      sarea[q] = box_area(g);
      sbest[q] = 0u;
    }
    __syncthreads();
    for (int32_t q = 0; q < tm; ++q) {
      const float v = valid ? box_iou(ax1, ay1, ax2, ay2, area, sx1[q], sy1[q], sx2[q], sy2[q], sarea[q]) : 0.0f;
      if (v > best) {  // strict: ties keep the lower box index
        best = v;
        best_j = t0 + q;
      }
      // The box's best over this warp (IoU >= 0, so float max is exact and order-free).
      float w = v;
      for (int o = 16; o > 0; o >>= 1) w = fmaxf(w, __shfl_xor_sync(0xffffffffu, w, o));
      if ((threadIdx.x & 31) == 0 && w > 0.0f) atomicMax(&sbest[q], __float_as_uint(w));
    }
    __syncthreads();
    for (int32_t q = threadIdx.x; q < tm; q += kThreads) {
      // Non-negative floats order as their bits: an integer max is the float max.
      if (sbest[q] != 0u) atomicMax(gt_best + g0 + t0 + q, sbest[q]);
    }
  }
  if (valid) {
    const int64_t o = static_cast<int64_t>(img) * n + i;
    max_iou[o] = m > 0 ? best : 0.0f;
    arg[o] = best_j;
  }
}

template <bool Targets>
__global__ void __launch_bounds__(kThreads)
decide_pass(const float* __restrict__ anchors, int64_t n, const float* __restrict__ gt,
            const int32_t* __restrict__ gt_off, const unsigned int* __restrict__ gt_best, float fg_iou,
            float bg_iou, bool low_quality, const float* __restrict__ max_iou, int32_t* __restrict__ matches,
            const int32_t* __restrict__ gt_labels, BoxCoderWeights w, int32_t* __restrict__ labels,
            float* __restrict__ box_targets, unsigned long long* __restrict__ fg_count) {
  __shared__ float sx1[kTile], sy1[kTile], sx2[kTile], sy2[kTile], sarea[kTile], sbest[kTile];
  __shared__ unsigned int s_floor;
  const int img = blockIdx.y;
  const int32_t g0 = gt_off[img];
  const int32_t m = gt_off[img + 1] - g0;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const bool valid = i < n;
  const int64_t o = static_cast<int64_t>(img) * n + i;
  float best = 0.0f;
  int32_t arg = 0;
  if (valid) {
    best = max_iou[o];
    arg = matches[o];
  }
  // No ground truth: every anchor is background.
  int32_t out = kBelowLowThreshold;
  if (m > 0) out = best >= fg_iou ? arg : best < bg_iou ? kBelowLowThreshold : kBetweenThresholds;
  if (low_quality && m > 0) {  // block-uniform
    // The smallest positive best IoU of the image's boxes: only anchors reaching it can tie one.
    if (threadIdx.x == 0) s_floor = __float_as_uint(2.0f);
    __syncthreads();
    unsigned int local = __float_as_uint(2.0f);
    for (int32_t q = threadIdx.x; q < m; q += kThreads) {
      const unsigned int b = gt_best[g0 + q];
      if (b != 0u && b < local) local = b;
    }
    atomicMin(&s_floor, local);
    __syncthreads();
    const bool need = valid && out < 0 && best >= __uint_as_float(s_floor);
    if (__syncthreads_or(need)) {
      const float* a = anchors + 4 * (valid ? i : 0);
      const float ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3];
      const float area = box_area(a);
      bool found = false;
      for (int32_t t0 = 0; t0 < m; t0 += kTile) {
        const int32_t tm = m - t0 < kTile ? m - t0 : kTile;
        __syncthreads();
        for (int32_t q = threadIdx.x; q < tm; q += kThreads) {
          const float* g = gt + 4 * static_cast<int64_t>(g0 + t0 + q);
          sx1[q] = g[0];
          sy1[q] = g[1];
          sx2[q] = g[2];
          sy2[q] = g[3];
          sarea[q] = box_area(g);
          sbest[q] = __uint_as_float(gt_best[g0 + t0 + q]);
        }
        __syncthreads();
        if (need && !found) {
          for (int32_t q = 0; q < tm; ++q) {
            if (sbest[q] > 0.0f &&
                box_iou(ax1, ay1, ax2, ay2, area, sx1[q], sy1[q], sx2[q], sy2[q], sarea[q]) == sbest[q]) {
              found = true;
              break;
            }
          }
        }
      }
      if (found) out = arg;  // keeps its own best box
    }
  }
  if (valid) {
    matches[o] = out;
    if (Targets) {
      float4 t = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (out >= 0) {
        labels[o] = gt_labels[g0 + out];
        float e[4];
        encode_box_device(anchors + 4 * i, gt + 4 * static_cast<int64_t>(g0 + out), w, e);
        t = make_float4(e[0], e[1], e[2], e[3]);
      } else {
        labels[o] = out;  // -1 background, -2 ignored: the same codes as matches
      }
      reinterpret_cast<float4*>(box_targets)[o] = t;
    }
  }
  if (Targets) {
    const int count = __syncthreads_count(valid && out >= 0);
    if (threadIdx.x == 0 && count > 0) atomicAdd(fg_count + img, static_cast<unsigned long long>(count));
  }
}

}  // namespace

Status upload_ground_truth(const Call& call, const float* const* gt, const int32_t* const* gt_labels,
                           const int64_t* m, int64_t batch, Buffer<float>& d_gt, Buffer<int32_t>& d_labels,
                           Buffer<int32_t>& d_off, int64_t* total_gt) {
  std::vector<int32_t> off(static_cast<size_t>(batch) + 1, 0);
  int64_t total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    total += m[b];
    if (total > INT32_MAX / 4) return Status::range_error("gtBoxes: too many boxes for the CUDA kernels");
    off[b + 1] = static_cast<int32_t>(total);
  }
  std::vector<float> boxes(static_cast<size_t>(total) * 4);
  std::vector<int32_t> labels(gt_labels != nullptr ? static_cast<size_t>(total) : 0);
  for (int64_t b = 0; b < batch; ++b) {
    if (m[b] == 0) continue;
    std::copy(gt[b], gt[b] + 4 * m[b], boxes.begin() + 4 * static_cast<int64_t>(off[b]));
    if (gt_labels != nullptr) std::copy(gt_labels[b], gt_labels[b] + m[b], labels.begin() + off[b]);
  }
  RN_TRY(upload(call, d_gt, boxes.data(), total * 4));
  if (gt_labels != nullptr) RN_TRY(upload(call, d_labels, labels.data(), total));
  RN_TRY(upload(call, d_off, off.data(), batch + 1));
  *total_gt = total;
  // The host vectors die here: the uploads are staged copies, but wait for them to be safe.
  RN_CUDA(cudaStreamSynchronize(call.stream()));
  return Status::ok();
}

Status match_on_device(const Call& call, const MatchInputs& in, const MatchParams& p, int32_t* matches,
                       float* max_iou, const TargetOutputs* targets) {
  if (in.n == 0 || in.batch == 0) return Status::ok();
  if (in.n > INT32_MAX / 4) return Status::range_error("anchors: too many for the CUDA kernels");
  if (in.batch > 65535) return Status::range_error("gtBoxes: at most 65535 images per CUDA call");
  Buffer<unsigned int> gt_best;
  RN_TRY(gt_best.alloc(call, in.total_gt));
  RN_TRY(zero(call, gt_best));
  const dim3 grid(blocks_for(in.n, kThreads, INT32_MAX), static_cast<unsigned int>(in.batch));
  best_pass<<<grid, kThreads, 0, call.stream()>>>(in.anchors, in.n, in.gt, in.gt_off, max_iou, matches,
                                                  gt_best.get());
  RN_LAUNCHED("best_pass");
  if (targets != nullptr) {
    decide_pass<true><<<grid, kThreads, 0, call.stream()>>>(
        in.anchors, in.n, in.gt, in.gt_off, gt_best.get(), p.fg_iou, p.bg_iou, p.allow_low_quality, max_iou,
        matches, targets->gt_labels, targets->weights, targets->labels, targets->box_targets, targets->fg);
  } else {
    decide_pass<false><<<grid, kThreads, 0, call.stream()>>>(
        in.anchors, in.n, in.gt, in.gt_off, gt_best.get(), p.fg_iou, p.bg_iou, p.allow_low_quality, max_iou,
        matches, nullptr, BoxCoderWeights{}, nullptr, nullptr, nullptr);
  }
  RN_LAUNCHED("decide_pass");
  // gt_best is freed stream-ordered, after the launches.
  return Status::ok();
}

}  // namespace cuda

Status match_anchors_cuda(const float* anchors, int64_t n, const float* const* gt, const int64_t* m,
                          int64_t batch, const MatchParams& p, int32_t* matches, float* max_iou) {
  if (n == 0 || batch == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_anchors, d_gt, d_max_iou;
  cuda::Buffer<int32_t> d_labels, d_off, d_matches;
  int64_t total_gt = 0;
  RN_TRY(cuda::upload(call, d_anchors, anchors, n * 4));
  RN_TRY(cuda::upload_ground_truth(call, gt, nullptr, m, batch, d_gt, d_labels, d_off, &total_gt));
  RN_TRY(d_matches.alloc(call, batch * n));
  RN_TRY(d_max_iou.alloc(call, batch * n));
  const cuda::MatchInputs in{d_anchors.get(), n, d_gt.get(), d_off.get(), batch, total_gt};
  RN_TRY(cuda::match_on_device(call, in, p, d_matches.get(), d_max_iou.get(), nullptr));
  RN_TRY(cuda::download(call, matches, d_matches.get(), batch * n));
  RN_TRY(cuda::download(call, max_iou, d_max_iou.get(), batch * n));
  return call.sync();
}

}  // namespace retinanet
