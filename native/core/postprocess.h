// RetinaNet inference post-processing (paper §4.1; torchvision's postprocess_detections):
// per level, sigmoid scores above a threshold, the top k, decoded and clipped; levels merged;
// batched NMS per class; the best detections.
#pragma once
#include <cstdint>
#include <vector>

#include "box_coding.h"
#include "status.h"

namespace retinanet {

struct PostprocessLevel {
  const float* logits;   // [B, n, K]
  const float* deltas;   // [B, n, 4]
  const float* anchors;  // [n, 4]
  int64_t n;             // anchors in the level (H * W * A)
};

struct PostprocessParams {
  float score_threshold = 0.05f;
  int64_t top_k = 1000;
  double nms_threshold = 0.5;
  int64_t max_detections = 100;
  BoxCoderWeights weights;
};

struct Detections {
  std::vector<float> boxes;     // [d, 4]
  std::vector<float> scores;    // [d]
  std::vector<int32_t> classes; // [d]
};

// image_sizes: [B][2] = height, width. A NaN logit, or a non-finite delta of a selected box, is a
// kRangeError.
Status postprocess_cpu(const std::vector<PostprocessLevel>& levels, int64_t num_classes,
                       const std::vector<std::pair<float, float>>& image_sizes,
                       const PostprocessParams& p, std::vector<Detections>& out);

// The same on the CUDA device for the whole batch: per level a threshold pass and a segmented
// sort (top k per image), decoding into one candidate list per image, the device NMS over
// (image, class) groups, and a final sort by (image, score). Same detections as the CPU.
Status postprocess_cuda(const std::vector<PostprocessLevel>& levels, int64_t num_classes,
                        const std::vector<std::pair<float, float>>& image_sizes,
                        const PostprocessParams& p, std::vector<Detections>& out);

}  // namespace retinanet
