#include "../core/match.h"

#include <algorithm>
#include <vector>

#include "../core/box_geometry.h"
#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Box-major, anchor-minor so the inner loop runs across anchors in vector lanes.
RETINANET_DISPATCH void best_box_pass(const float* anchors, int64_t i0, int64_t i1, const float* gt,
                                      const float* gt_area, int64_t m, float* max_iou,
                                      int32_t* arg, float* best_gt) {
  std::fill(max_iou + i0, max_iou + i1, -1.0f);
  std::fill(arg + i0, arg + i1, 0);
  for (int64_t j = 0; j < m; ++j) {
    const float* g = gt + 4 * j;
    const float ga = gt_area[j];
    const int32_t jj = static_cast<int32_t>(j);
    float gb = best_gt[j];
#pragma omp simd reduction(max : gb)
    for (int64_t i = i0; i < i1; ++i) {
      const float* a = anchors + 4 * i;
      const float v = box_iou_pair(a, box_area(a), g, ga);
      const bool better = v > max_iou[i];  // strict: ties keep the lower box index
      max_iou[i] = better ? v : max_iou[i];
      arg[i] = better ? jj : arg[i];
      gb = gb > v ? gb : v;
    }
    best_gt[j] = gb;
  }
}

}  // namespace

void match_anchors_cpu(const float* anchors, int64_t n, const float* gt, int64_t m,
                       const MatchParams& p, int32_t* matches, float* max_iou) {
  if (m == 0) {  // no ground truth: every anchor is background
    std::fill(matches, matches + n, kBelowLowThreshold);
    std::fill(max_iou, max_iou + n, 0.0f);
    return;
  }
  std::vector<float> gt_area(static_cast<size_t>(m));
  for (int64_t j = 0; j < m; ++j) gt_area[j] = box_area(gt + 4 * j);

  // Pass 1: each anchor's best box (ties to the lower index) and, per chunk, each box's best IoU.
  const int64_t grain = 4096;
  const int64_t chunks = num_chunks(n, grain);
  std::vector<float> chunk_best(static_cast<size_t>(chunks * m), 0.0f);
  parallel_for(n, grain, [&](int64_t i0, int64_t i1) {
    best_box_pass(anchors, i0, i1, gt, gt_area.data(), m, max_iou, matches,
                  chunk_best.data() + (i0 / grain) * m);
  });
  std::vector<float> gt_best(static_cast<size_t>(m), 0.0f);
  for (int64_t c = 0; c < chunks; ++c) {
    for (int64_t j = 0; j < m; ++j) gt_best[j] = std::max(gt_best[j], chunk_best[c * m + j]);
  }
  // An anchor can only tie a box's best IoU if its own best reaches the smallest positive one.
  float low_quality_floor = 2.0f;
  for (float v : gt_best) {
    if (v > 0.0f) low_quality_floor = std::min(low_quality_floor, v);
  }

  // Pass 2: thresholds, then low-quality matches keep the anchor's own best box.
  parallel_for(n, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float best = max_iou[i];
      const int32_t arg = matches[i];
      int32_t out = best >= p.fg_iou ? arg
                    : best < p.bg_iou ? kBelowLowThreshold
                                      : kBetweenThresholds;
      if (p.allow_low_quality && out < 0 && best >= low_quality_floor) {
        const float* a = anchors + 4 * i;
        const float area = box_area(a);
        for (int64_t j = 0; j < m; ++j) {
          if (gt_best[j] > 0.0f && box_iou_pair(a, area, gt + 4 * j, gt_area[j]) == gt_best[j]) {
            out = arg;
            break;
          }
        }
      }
      matches[i] = out;
    }
  });
}

}  // namespace retinanet
