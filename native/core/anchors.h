// RetinaNet anchors: per level, cell anchors (ratio-major, scale-minor) shifted over the grid,
// order level, y, x, anchor - torchvision's AnchorGenerator.
#pragma once
#include <cstdint>
#include <vector>

#include "status.h"

namespace retinanet {

struct AnchorLevelSpec {
  float stride_y;    // rows' stride: 2^l, or torchvision's padded height // rows
  float stride_x;    // columns' stride
  float size;        // base size (32 for P3)
  int64_t height;    // feature map rows
  int64_t width;     // feature map columns
};

struct AnchorParams {
  std::vector<float> scales;         // size multipliers, e.g. 2^0, 2^(1/3), 2^(2/3)
  std::vector<float> aspect_ratios;  // h / w
  float offset = 0.0f;               // centre of cell (x, y) is ((x + offset) * stride, ...)
  bool torchvision_rounding = true;  // truncate scaled sizes, round cell anchors (half to even)
};

// Cell anchors of one level, [A, 4] with A = ratios * scales, centred at 0.
std::vector<float> cell_anchors(float size, const AnchorParams& p);

// Writes sum(height * width * A) * 4 floats into out.
void generate_anchors_cpu(const std::vector<AnchorLevelSpec>& levels, const AnchorParams& p,
                          float* out);
// The same on the CUDA device (written to the host array out; same bits as the CPU).
Status generate_anchors_cuda(const std::vector<AnchorLevelSpec>& levels, const AnchorParams& p,
                             float* out);

}  // namespace retinanet
