#include "../core/box_coding.h"

#include "../runtime/thread_pool.h"

namespace retinanet {

void encode_boxes_cpu(const float* anchors, const float* boxes, int64_t n,
                      const BoxCoderWeights& w, float* out) {
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) encode_box(anchors + 4 * i, boxes + 4 * i, w, out + 4 * i);
  });
}

void decode_boxes_cpu(const float* anchors, const float* deltas, int64_t n,
                      const BoxCoderWeights& w, float clip_h, float clip_w, float* out) {
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      decode_box(anchors + 4 * i, deltas + 4 * i, w, clip_h, clip_w, out + 4 * i);
    }
  });
}

}  // namespace retinanet
