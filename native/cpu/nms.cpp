#include "../core/nms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../core/box_geometry.h"
#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Kept boxes, structure of arrays so the overlap test runs across vector lanes.
struct KeptBoxes {
  std::vector<float> x1, y1, x2, y2, area;
  void reserve(size_t n) {
    for (auto* v : {&x1, &y1, &x2, &y2, &area}) v->reserve(n);
  }
  size_t size() const { return x1.size(); }
  void insert(size_t at, const float* b, float a) {
    x1.insert(x1.begin() + at, b[0]);
    y1.insert(y1.begin() + at, b[1]);
    x2.insert(x2.begin() + at, b[2]);
    y2.insert(y2.begin() + at, b[3]);
    area.insert(area.begin() + at, a);
  }
};

// Does box b (area ab) overlap any kept box in [k0, k1) with IoU > t? Blocks of 32 lanes, with
// an exit after the first block that hits (most candidates are suppressed early).
RETINANET_DISPATCH bool suppressed(const KeptBoxes& k, size_t k0, size_t k1, const float* b, float ab,
                                   float t) {
  const float* x1 = k.x1.data();
  const float* y1 = k.y1.data();
  const float* x2 = k.x2.data();
  const float* y2 = k.y2.data();
  const float* area = k.area.data();
  for (size_t s = k0; s < k1; s += 32) {
    const size_t e = std::min(k1, s + 32);
    int hit = 0;
#pragma omp simd reduction(| : hit)
    for (size_t i = s; i < e; ++i) {
      hit |= box_iou(b[0], b[1], b[2], b[3], ab, x1[i], y1[i], x2[i], y2[i], area[i]) > t;
    }
    if (hit) return true;
  }
  return false;
}

}  // namespace

void sort_by_score(const float* scores, int32_t* idx, int64_t n) {
  // One 64-bit key per candidate (order-preserving score bits, inverted for descending, then the
  // index) so the sort compares integers instead of chasing scores[] through the indices.
  std::vector<uint64_t> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    float s = scores[idx[i]];
    if (s == 0.0f) s = 0.0f;  // -0 and +0 are equal scores
    uint32_t u;
    std::memcpy(&u, &s, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending with the float value
    keys[i] = (static_cast<uint64_t>(~u) << 32) | static_cast<uint32_t>(idx[i]);
  }
  std::sort(keys.begin(), keys.end());
  for (int64_t i = 0; i < n; ++i) idx[i] = static_cast<int32_t>(keys[i] & 0xffffffffu);
}

void nms_group(const float* boxes, const int32_t* order, int64_t n, double iou_threshold,
               int64_t max_keep, std::vector<int32_t>& keep) {
  if (n == 0 || max_keep == 0) return;
  const float t = nms_float_threshold(iou_threshold);
  const size_t limit = max_keep < 0 ? static_cast<size_t>(n) : static_cast<size_t>(max_keep);
  KeptBoxes kept;
  kept.reserve(std::min(limit, static_cast<size_t>(n)));
  // The sweep skips kept boxes that cannot overlap: valid because IoU 0 never exceeds t >= 0.
  const bool sweep = n >= kNmsSweepMinCandidates && iou_threshold >= 0.0;
  float max_width = 0.0f;
  for (int64_t c = 0; c < n; ++c) {
    const int32_t i = order[c];
    const float* b = boxes + 4 * static_cast<int64_t>(i);
    const float ab = box_area(b);
    size_t k0 = 0, k1 = kept.size(), at = kept.size();
    if (sweep) {
      // Kept boxes are sorted by x1: only those with x1 in [b.x1 - max_width, b.x2] can overlap.
      const auto& xs = kept.x1;
      // A small margin covers float rounding in x2 - x1: testing extra boxes is harmless.
      const float lo = (b[0] - max_width) - (std::fabs(b[0]) + max_width) * 1e-6f;
      k0 = static_cast<size_t>(std::lower_bound(xs.begin(), xs.end(), lo) - xs.begin());
      k1 = static_cast<size_t>(std::upper_bound(xs.begin() + k0, xs.end(), b[2]) - xs.begin());
      at = static_cast<size_t>(std::upper_bound(xs.begin() + k0, xs.begin() + k1, b[0]) - xs.begin());
    }
    if (k0 < k1 && suppressed(kept, k0, k1, b, ab, t)) continue;
    keep.push_back(i);
    kept.insert(at, b, ab);
    max_width = std::max(max_width, b[2] - b[0]);
    if (kept.size() >= limit) break;
  }
}

std::vector<int32_t> batched_nms_cpu(const float* boxes, const float* scores, const int32_t* groups,
                                     int64_t n, const NmsParams& p) {
  // Candidates above the score threshold, bucketed by group (counting sort when the ids are
  // dense enough, else a sort of (group, index) pairs), in index order within each group.
  std::vector<int32_t> cand;
  cand.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!p.use_score_threshold || scores[i] > p.score_threshold) cand.push_back(static_cast<int32_t>(i));
  }
  std::vector<int64_t> bounds{0};
  std::vector<int32_t> bucketed;
  if (groups == nullptr) {
    bucketed = std::move(cand);
    bounds.push_back(static_cast<int64_t>(bucketed.size()));
  } else if (!cand.empty()) {
    int32_t lo = groups[cand[0]], hi = lo;
    for (int32_t i : cand) {
      lo = std::min(lo, groups[i]);
      hi = std::max(hi, groups[i]);
    }
    const int64_t range = static_cast<int64_t>(hi) - lo + 1;
    bucketed.resize(cand.size());
    if (range <= 4 * static_cast<int64_t>(cand.size()) + 1024) {
      std::vector<int64_t> start(static_cast<size_t>(range) + 1, 0);
      for (int32_t i : cand) ++start[static_cast<size_t>(groups[i] - lo) + 1];
      for (int64_t g = 0; g < range; ++g) start[g + 1] += start[g];
      std::vector<int64_t> fill(start.begin(), start.end() - 1);
      for (int32_t i : cand) bucketed[fill[groups[i] - lo]++] = i;
      for (int64_t g = 1; g <= range; ++g) {
        if (start[g] != start[g - 1]) bounds.push_back(start[g]);
      }
    } else {
      std::vector<std::pair<int32_t, int32_t>> pairs;
      pairs.reserve(cand.size());
      for (int32_t i : cand) pairs.emplace_back(groups[i], i);
      std::sort(pairs.begin(), pairs.end());
      for (size_t k = 0; k < pairs.size(); ++k) {
        bucketed[k] = pairs[k].second;
        if (k > 0 && pairs[k].first != pairs[k - 1].first) bounds.push_back(static_cast<int64_t>(k));
      }
      bounds.push_back(static_cast<int64_t>(pairs.size()));
    }
  }
  const int64_t num_groups = static_cast<int64_t>(bounds.size()) - 1;
  // Groups are independent: run them in parallel, each keeping at most max_output boxes (no
  // more can reach the merged top max_output).
  std::vector<std::vector<int32_t>> kept(static_cast<size_t>(std::max<int64_t>(num_groups, 0)));
  parallel_for(num_groups, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      int32_t* idx = bucketed.data() + bounds[g];
      const int64_t len = bounds[g + 1] - bounds[g];
      sort_by_score(scores, idx, len);
      nms_group(boxes, idx, len, p.iou_threshold, p.max_output, kept[g]);
    }
  });
  std::vector<int32_t> out;
  for (const auto& k : kept) out.insert(out.end(), k.begin(), k.end());
  if (num_groups > 1) sort_by_score(scores, out.data(), static_cast<int64_t>(out.size()));
  if (p.max_output >= 0 && static_cast<int64_t>(out.size()) > p.max_output) out.resize(p.max_output);
  return out;
}

}  // namespace retinanet
