#include "../core/targets.h"

#include <vector>

#include "../runtime/thread_pool.h"

namespace retinanet {

int64_t retinanet_targets_cpu(const float* anchors, int64_t n, const float* gt,
                              const int32_t* gt_labels, int64_t m, const MatchParams& mp,
                              const BoxCoderWeights& w, int32_t* labels, float* box_targets,
                              int32_t* matches, float* max_iou) {
  match_anchors_cpu(anchors, n, gt, m, mp, matches, max_iou);
  const int64_t grain = 16384;
  std::vector<int64_t> fg(static_cast<size_t>(num_chunks(n, grain)), 0);
  parallel_for(n, grain, [&](int64_t i0, int64_t i1) {
    int64_t count = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const int32_t j = matches[i];
      float* t = box_targets + 4 * i;
      if (j >= 0) {
        labels[i] = gt_labels[j];
        encode_box(anchors + 4 * i, gt + 4 * j, w, t);
        ++count;
      } else {
        labels[i] = j;  // -1 background, -2 ignored: the same codes as matches
        t[0] = t[1] = t[2] = t[3] = 0.0f;
      }
    }
    fg[i0 / grain] = count;
  });
  int64_t total = 0;
  for (int64_t c : fg) total += c;
  return total;
}

}  // namespace retinanet
