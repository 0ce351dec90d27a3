#include "../core/postprocess.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../runtime/dispatch.h"
#include "../core/nms.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

// Appends to `out` the flat indices [f0, f1) of logits above `cut`; returns whether a NaN was seen.
// A compare-only pass (no exp) over all logits: the exact sigmoid test runs on survivors only.
RETINANET_DISPATCH bool scan_above(const float* logits, int64_t f0, int64_t f1, float cut,
                                   std::vector<int32_t>& out) {
  int nan = 0;
  constexpr int64_t kBlock = 256;
  for (int64_t b0 = f0; b0 < f1; b0 += kBlock) {
    const int64_t b1 = std::min(f1, b0 + kBlock);
    int any = 0;
#pragma omp simd reduction(| : any, nan)
    for (int64_t f = b0; f < b1; ++f) {
      any |= logits[f] > cut;
      nan |= logits[f] != logits[f];
    }
    if (!any) continue;
    for (int64_t f = b0; f < b1; ++f) {
      if (logits[f] > cut) out.push_back(static_cast<int32_t>(f));
    }
  }
  return nan != 0;
}

bool finite4(const float* v) {
  return std::isfinite(v[0]) && std::isfinite(v[1]) && std::isfinite(v[2]) && std::isfinite(v[3]);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

struct Candidate {
  float score;
  int32_t flat;  // anchor * K + class within the level
};

bool better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.flat < b.flat);
}

}  // namespace

Status postprocess_cpu(const std::vector<PostprocessLevel>& levels, int64_t num_classes,
                       const std::vector<std::pair<float, float>>& image_sizes,
                       const PostprocessParams& p, std::vector<Detections>& out) {
  const int64_t batch = static_cast<int64_t>(image_sizes.size());
  out.assign(static_cast<size_t>(batch), Detections{});
  // sigmoid(x) > t needs x > logit(t); the cut sits a little below so rounding in the exact test
  // decides, never the prefilter.
  const double t = p.score_threshold;
  const float cut = t <= 0.0 ? -std::numeric_limits<float>::infinity()
                  : t >= 1.0 ? std::numeric_limits<float>::infinity()
                             : static_cast<float>(std::log(t / (1.0 - t)) - 1e-3);
  const int64_t k = num_classes;
  for (int64_t img = 0; img < batch; ++img) {
    std::vector<float> boxes, scores;
    std::vector<int32_t> classes;
    const float clip_h = image_sizes[img].first, clip_w = image_sizes[img].second;
    for (size_t li = 0; li < levels.size(); ++li) {
      const PostprocessLevel& lv = levels[li];
      const int64_t total = lv.n * k;
      const float* logits = lv.logits + img * total;
      const float* deltas = lv.deltas + img * lv.n * 4;
      // Parallel scan in fixed chunks, merged in chunk order.
      const int64_t grain = 1 << 16;
      const int64_t chunks = num_chunks(total, grain);
      std::vector<std::vector<int32_t>> found(static_cast<size_t>(chunks));
      std::vector<char> nan(static_cast<size_t>(chunks), 0);
      parallel_for(total, grain, [&](int64_t f0, int64_t f1) {
        nan[f0 / grain] = scan_above(logits, f0, f1, cut, found[f0 / grain]);
      });
      for (int64_t c = 0; c < chunks; ++c) {
        if (nan[c]) {
          return Status::range_error("levels[" + std::to_string(li) + "].logits: image " +
                                     std::to_string(img) + " holds NaN");
        }
      }
      std::vector<Candidate> cand;
      for (const auto& f : found) {
        for (int32_t flat : f) {
          const float s = sigmoid(logits[flat]);
          if (s > p.score_threshold) cand.push_back({s, flat});
        }
      }
      // Top k by a partial selection, then in score order (ties: lower flat index) so the
      // merged list has a deterministic order for NMS's tie rule.
      if (static_cast<int64_t>(cand.size()) > p.top_k) {
        std::nth_element(cand.begin(), cand.begin() + p.top_k, cand.end(), better);
        cand.resize(static_cast<size_t>(p.top_k));
      }
      std::sort(cand.begin(), cand.end(), better);
      for (const Candidate& c : cand) {
        const int64_t a = c.flat / k;
        const float* d = deltas + 4 * a;
        const float* anchor = lv.anchors + 4 * a;
        // Only the selected boxes are read, so only they are checked.
        if (!finite4(d) || !finite4(anchor)) {
          return Status::range_error("levels[" + std::to_string(li) + "]: image " + std::to_string(img) +
                                     ", anchor " + std::to_string(a) + ": a delta or anchor coordinate is not finite");
        }
        float box[4];
        decode_box(anchor, d, p.weights, clip_h, clip_w, box);
        boxes.insert(boxes.end(), box, box + 4);
        scores.push_back(c.score);
        classes.push_back(static_cast<int32_t>(c.flat % k));
      }
    }
    NmsParams np;
    np.iou_threshold = p.nms_threshold;
    np.max_output = p.max_detections;
    const std::vector<int32_t> keep = batched_nms_cpu(boxes.data(), scores.data(), classes.data(),
                                                      static_cast<int64_t>(scores.size()), np);
    Detections& det = out[img];
    for (int32_t i : keep) {
      det.boxes.insert(det.boxes.end(), boxes.begin() + 4 * i, boxes.begin() + 4 * i + 4);
      det.scores.push_back(scores[i]);
      det.classes.push_back(classes[i]);
    }
  }
  return Status::ok();
}

}  // namespace retinanet
