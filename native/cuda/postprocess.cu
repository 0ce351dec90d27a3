// RetinaNet post-processing on the CUDA device for a whole batch: per level a count pass and a
// write pass (sigmoid score > threshold; warp-aggregated appends of (score, flat index) keys), a
// segmented radix sort per image (the top k are the first k), one decode launch writing each
// image's candidate list (levels in order, each by score: the CPU's merged order), the device NMS
// over (image, class) groups, and a stable sort of the kept by (image, score). Same detections as
// postprocess_cpu; errors (NaN logits, non-finite deltas of selected boxes) in the CPU's order.
#include <climits>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../core/nms.h"
#include "../core/postprocess.h"
#include "box_coding.cuh"
#include "nms.cuh"
#include "sort.cuh"

namespace retinanet {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr unsigned int kScanBlocks = 1024;  // per image, x dimension of the scan grid

// sigmoid(x) > thr, with the CPU's prefilter and its arithmetic (exp rounded from double as glibc).
__device__ __forceinline__ bool selected(float x, float cut, float thr, float& s) {
  if (!(x > cut)) return false;
  s = 1.0f / (1.0f + exp_rn(-x));
  return s > thr;
}

// Counts the candidates of each image of one level; flags images holding a NaN logit.
__global__ void __launch_bounds__(kThreads)
count_kernel(const float* __restrict__ logits, uint32_t per_image, float cut, float thr, int level, int levels,
             int* __restrict__ counts, int* __restrict__ nan) {
  const int img = blockIdx.y;
  const float* x = logits + static_cast<int64_t>(img) * per_image;
  int total = 0;
  int has_nan = 0;
  for (uint32_t u0 = blockIdx.x * kThreads; u0 < per_image; u0 += gridDim.x * kThreads) {  // block-uniform
    const uint32_t u = u0 + threadIdx.x;
    bool pred = false;
    if (u < per_image) {
      const float v = x[u];
      has_nan |= v != v;
      float s;
      pred = selected(v, cut, thr, s);
    }
    total += __syncthreads_count(pred);
  }
  has_nan = __syncthreads_or(has_nan);
  if (threadIdx.x == 0) {
    if (total > 0) atomicAdd(counts + img * levels + level, total);
    if (has_nan) nan[img * levels + level] = 1;
  }
}

// Appends key (score descending << 32 | flat) of every candidate into its image's segment.
__global__ void __launch_bounds__(kThreads)
write_kernel(const float* __restrict__ logits, uint32_t per_image, float cut, float thr,
             int* __restrict__ cursor, uint64_t* __restrict__ keys) {
  const int img = blockIdx.y;
  const float* x = logits + static_cast<int64_t>(img) * per_image;
  const int lane = threadIdx.x & 31;
  for (uint32_t u0 = blockIdx.x * kThreads; u0 < per_image; u0 += gridDim.x * kThreads) {  // block-uniform
    const uint32_t u = u0 + threadIdx.x;
    bool pred = false;
    float s = 0.0f;
    if (u < per_image) pred = selected(x[u], cut, thr, s);
    const unsigned int ballot = __ballot_sync(0xffffffffu, pred);
    if (ballot != 0u) {
      const int leader = __ffs(ballot) - 1;
      int base = 0;
      if (lane == leader) base = atomicAdd(cursor + img, __popc(ballot));
      base = __shfl_sync(0xffffffffu, base, leader);
      if (pred) {
        keys[base + __popc(ballot & ((1u << lane) - 1u))] =
            (static_cast<uint64_t>(desc_score_key(s)) << 32) | u;
      }
    }
  }
}

struct LevelPlan {
  const uint64_t* sorted;      // the level's keys, each image's segment sorted
  const int32_t* seg_begin;    // [B] segment start per image
  const int32_t* take;         // [B] candidates kept per image (top k)
  const int32_t* merged_off;   // [B] position of the first in the merged list
  const float* deltas;         // [B, n, 4]
  const float* anchors;        // [n, 4]
  int64_t n;
};

__global__ void __launch_bounds__(kThreads)
decode_kernel(LevelPlan lp, int64_t k, int level, int levels, const float* __restrict__ clip_h,
              const float* __restrict__ clip_w, BoxCoderWeights w, float4* __restrict__ m_boxes,
              float* __restrict__ m_scores, int32_t* __restrict__ m_classes, int32_t* __restrict__ m_groups,
              int32_t* __restrict__ m_image, unsigned long long* __restrict__ bad) {
  const int img = blockIdx.y;
  const int32_t r = static_cast<int32_t>(blockIdx.x * kThreads + threadIdx.x);
  if (r >= lp.take[img]) return;
  const uint64_t key = lp.sorted[lp.seg_begin[img] + r];
  const uint32_t flat = static_cast<uint32_t>(key & 0xffffffffu);
  const float score = score_of_key(static_cast<uint32_t>(key >> 32));
  const int64_t a = flat / k;
  const int32_t cls = static_cast<int32_t>(flat - a * k);
  const float* d = lp.deltas + (static_cast<int64_t>(img) * lp.n + a) * 4;
  const float* anchor = lp.anchors + a * 4;
  bool finite = true;
  for (int q = 0; q < 4; ++q) finite = finite && isfinite(d[q]) && isfinite(anchor[q]);
  if (!finite) {
    // The first bad one in score order, with its anchor, as the CPU reports it.
    atomicMin(bad + img * levels + level, (static_cast<unsigned long long>(r) << 32) | static_cast<uint32_t>(a));
  }
  float box[4];
  decode_box_device(anchor, d, w, clip_h[img], clip_w[img], box);
  const int64_t pos = lp.merged_off[img] + r;
  m_boxes[pos] = make_float4(box[0], box[1], box[2], box[3]);
  m_scores[pos] = score;
  m_classes[pos] = cls;
  m_groups[pos] = static_cast<int32_t>(img * k + cls);
  m_image[pos] = img;
}

// Kept candidates by (image, score descending); the stable sort breaks ties by merged position.
__global__ void __launch_bounds__(kThreads)
final_key_kernel(const float* __restrict__ scores, const int32_t* __restrict__ image, const uint8_t* __restrict__ keep,
                 int64_t total, uint64_t* __restrict__ keys, int32_t* __restrict__ values, int* __restrict__ kept) {
  const int64_t q = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (q >= total) return;
  const bool k = keep[q] != 0;
  keys[q] = k ? (static_cast<uint64_t>(image[q]) << 32) | desc_score_key(scores[q]) : ~0ull;
  values[q] = static_cast<int32_t>(q);
  if (k) atomicAdd(kept + image[q], 1);
}

__global__ void __launch_bounds__(kThreads)
gather_kernel(const int32_t* __restrict__ order, const int32_t* __restrict__ src_off, const int32_t* __restrict__ dst_off,
              const int32_t* __restrict__ take, const float4* __restrict__ m_boxes, const float* __restrict__ m_scores,
              const int32_t* __restrict__ m_classes, float4* __restrict__ boxes, float* __restrict__ scores,
              int32_t* __restrict__ classes) {
  const int img = blockIdx.y;
  const int32_t r = static_cast<int32_t>(blockIdx.x * kThreads + threadIdx.x);
  if (r >= take[img]) return;
  const int32_t q = order[src_off[img] + r];
  const int32_t o = dst_off[img] + r;
  boxes[o] = m_boxes[q];
  scores[o] = m_scores[q];
  classes[o] = m_classes[q];
}

template <typename T>
Status upload_vector(const Call& call, Buffer<T>& d, const std::vector<T>& h) {
  return upload(call, d, h.data(), static_cast<int64_t>(h.size()));
}

}  // namespace
}  // namespace cuda

Status postprocess_cuda(const std::vector<PostprocessLevel>& levels, int64_t num_classes,
                        const std::vector<std::pair<float, float>>& image_sizes, const PostprocessParams& p,
                        std::vector<Detections>& out) {
  using namespace cuda;
  const int64_t batch = static_cast<int64_t>(image_sizes.size());
  out.assign(static_cast<size_t>(batch), Detections{});
  const int64_t num_levels = static_cast<int64_t>(levels.size());
  if (batch == 0 || num_levels == 0) return Status::ok();
  const int64_t k = num_classes;
  if (batch > 65535) return Status::range_error("imageSizes: at most 65535 images per CUDA call");
  if (batch * k > INT32_MAX) return Status::range_error("numClasses: too many classes x images for the CUDA kernels");
  for (const PostprocessLevel& lv : levels) {
    if (lv.n * k > UINT32_MAX / 2) return Status::range_error("levels: too many logits per image for the CUDA kernels");
  }
  // The CPU's cut: sigmoid(x) > t needs x > logit(t), a little below so the exact test decides.
  const double t = p.score_threshold;
  const float cut = t <= 0.0 ? -std::numeric_limits<float>::infinity()
                  : t >= 1.0 ? std::numeric_limits<float>::infinity()
                             : static_cast<float>(std::log(t / (1.0 - t)) - 1e-3);
  const int64_t top_k = p.top_k;

  Call call;
  RN_TRY(call.begin());
  std::vector<Buffer<float>> d_logits(levels.size()), d_deltas(levels.size()), d_anchors(levels.size());
  Buffer<int> d_counts, d_nan;
  RN_TRY(d_counts.alloc(call, batch * num_levels));
  RN_TRY(d_nan.alloc(call, batch * num_levels));
  RN_TRY(zero(call, d_counts));
  RN_TRY(zero(call, d_nan));
  for (int64_t l = 0; l < num_levels; ++l) {
    const PostprocessLevel& lv = levels[l];
    if (lv.n == 0) continue;
    const int64_t per_image = lv.n * k;
    RN_TRY(upload(call, d_logits[l], lv.logits, batch * per_image));
    RN_TRY(upload(call, d_deltas[l], lv.deltas, batch * lv.n * 4));
    RN_TRY(upload(call, d_anchors[l], lv.anchors, lv.n * 4));
    const dim3 grid(blocks_for(per_image, kThreads, kScanBlocks), static_cast<unsigned int>(batch));
    count_kernel<<<grid, kThreads, 0, call.stream()>>>(d_logits[l].get(), static_cast<uint32_t>(per_image), cut,
                                                       p.score_threshold, static_cast<int>(l),
                                                       static_cast<int>(num_levels), d_counts.get(), d_nan.get());
    RN_LAUNCHED("count_kernel");
  }
  std::vector<int> counts(static_cast<size_t>(batch * num_levels)), nan(counts.size());
  RN_TRY(download(call, counts.data(), d_counts.get(), batch * num_levels));
  RN_TRY(download(call, nan.data(), d_nan.get(), batch * num_levels));
  RN_TRY(call.sync());

  // Merged list per image: levels in order, each level's top k by score.
  std::vector<int32_t> take(counts.size()), merged_off(counts.size());
  int64_t total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t l = 0; l < num_levels; ++l) {
      const int64_t i = b * num_levels + l;
      take[i] = static_cast<int32_t>(counts[i] < top_k ? counts[i] : top_k);
      merged_off[i] = static_cast<int32_t>(total);
      total += take[i];
      if (total > INT32_MAX / 4) return Status::range_error("postprocess: too many candidates for the CUDA kernels");
    }
  }
  Buffer<float4> m_boxes;
  Buffer<float> m_scores, d_clip_h, d_clip_w;
  Buffer<int32_t> m_classes, m_groups, m_image;
  Buffer<unsigned long long> d_bad;
  RN_TRY(m_boxes.alloc(call, total));
  RN_TRY(m_scores.alloc(call, total));
  RN_TRY(m_classes.alloc(call, total));
  RN_TRY(m_groups.alloc(call, total));
  RN_TRY(m_image.alloc(call, total));
  RN_TRY(d_bad.alloc(call, batch * num_levels));
  RN_CUDA(cudaMemsetAsync(d_bad.get(), 0xff, static_cast<size_t>(batch * num_levels) * sizeof(unsigned long long),
                          call.stream()));
  std::vector<float> clip_h(static_cast<size_t>(batch)), clip_w(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    clip_h[b] = image_sizes[b].first;
    clip_w[b] = image_sizes[b].second;
  }
  RN_TRY(upload_vector(call, d_clip_h, clip_h));
  RN_TRY(upload_vector(call, d_clip_w, clip_w));

  // Per level: keys into per-image segments, segmented sort, decode the top k into the merged list.
  // Host vectors handed to uploads stay alive until the sync below.
  std::vector<std::vector<int32_t>> host_plan(static_cast<size_t>(num_levels));
  std::vector<Buffer<int32_t>> d_plan(static_cast<size_t>(num_levels));
  std::vector<Buffer<uint64_t>> d_keys(static_cast<size_t>(num_levels)), d_sorted(static_cast<size_t>(num_levels));
  for (int64_t l = 0; l < num_levels; ++l) {
    const PostprocessLevel& lv = levels[l];
    int64_t level_count = 0, level_take = 0, max_take = 0;
    // plan: [begin B][end B][cursor B][take B][merged_off B]
    std::vector<int32_t>& plan = host_plan[l];
    plan.assign(static_cast<size_t>(5 * batch), 0);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t i = b * num_levels + l;
      plan[b] = static_cast<int32_t>(level_count);
      level_count += counts[i];
      if (level_count > INT32_MAX) return Status::range_error("postprocess: too many scores above the threshold for the CUDA sort");
      plan[batch + b] = static_cast<int32_t>(level_count);
      plan[2 * batch + b] = plan[b];
      plan[3 * batch + b] = take[i];
      plan[4 * batch + b] = merged_off[i];
      level_take += take[i];
      if (take[i] > max_take) max_take = take[i];
    }
    if (level_take == 0) continue;
    RN_TRY(upload_vector(call, d_plan[l], plan));
    RN_TRY(d_keys[l].alloc(call, level_count));
    RN_TRY(d_sorted[l].alloc(call, level_count));
    const int64_t per_image = lv.n * k;
    const int32_t* dp = d_plan[l].get();
    const dim3 grid(blocks_for(per_image, kThreads, kScanBlocks), static_cast<unsigned int>(batch));
    write_kernel<<<grid, kThreads, 0, call.stream()>>>(d_logits[l].get(), static_cast<uint32_t>(per_image), cut,
                                                       p.score_threshold, d_plan[l].get() + 2 * batch,
                                                       d_keys[l].get());
    RN_LAUNCHED("write_kernel");
    RN_TRY(segmented_sort_keys(call, d_keys[l].get(), d_sorted[l].get(), level_count, batch, dp, dp + batch));
    const LevelPlan lp{d_sorted[l].get(), dp, dp + 3 * batch, dp + 4 * batch, d_deltas[l].get(), d_anchors[l].get(),
                       lv.n};
    const dim3 dgrid(blocks_for(max_take, kThreads, INT32_MAX), static_cast<unsigned int>(batch));
    decode_kernel<<<dgrid, kThreads, 0, call.stream()>>>(lp, k, static_cast<int>(l), static_cast<int>(num_levels),
                                                         d_clip_h.get(), d_clip_w.get(), p.weights, m_boxes.get(),
                                                         m_scores.get(), m_classes.get(), m_groups.get(),
                                                         m_image.get(), d_bad.get());
    RN_LAUNCHED("decode_kernel");
  }
  std::vector<unsigned long long> bad(counts.size());
  RN_TRY(download(call, bad.data(), d_bad.get(), batch * num_levels));
  RN_TRY(call.sync());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t l = 0; l < num_levels; ++l) {
      const int64_t i = b * num_levels + l;
      if (nan[i]) {
        return Status::range_error("levels[" + std::to_string(l) + "].logits: image " + std::to_string(b) +
                                   " holds NaN");
      }
      if (bad[i] != ~0ull) {
        return Status::range_error("levels[" + std::to_string(l) + "]: image " + std::to_string(b) + ", anchor " +
                                   std::to_string(bad[i] & 0xffffffffu) +
                                   ": a delta or anchor coordinate is not finite");
      }
    }
  }
  if (total == 0 || p.max_detections == 0) return Status::ok();

  // Class-wise NMS within each image: groups are image * K + class.
  Buffer<uint8_t> keep;
  RN_TRY(keep.alloc(call, total));
  const NmsDeviceInputs nin{reinterpret_cast<const float*>(m_boxes.get()), m_scores.get(), m_groups.get(), total,
                            nms_float_threshold(p.nms_threshold), false, 0.0f, p.max_detections};
  RN_TRY(nms_on_device(call, nin, keep.get()));

  Buffer<uint64_t> fkeys, fsorted;
  Buffer<int32_t> fvalues, forder;
  Buffer<int> kept;
  RN_TRY(fkeys.alloc(call, total));
  RN_TRY(fsorted.alloc(call, total));
  RN_TRY(fvalues.alloc(call, total));
  RN_TRY(forder.alloc(call, total));
  RN_TRY(kept.alloc(call, batch));
  RN_TRY(zero(call, kept));
  final_key_kernel<<<blocks_for(total, kThreads, INT32_MAX), kThreads, 0, call.stream()>>>(
      m_scores.get(), m_image.get(), keep.get(), total, fkeys.get(), fvalues.get(), kept.get());
  RN_LAUNCHED("final_key_kernel");
  RN_TRY(sort_pairs(call, fkeys.get(), fsorted.get(), fvalues.get(), forder.get(), total));
  std::vector<int> kept_h(static_cast<size_t>(batch));
  RN_TRY(download(call, kept_h.data(), kept.get(), batch));
  RN_TRY(call.sync());

  // Each image's kept are contiguous in (image, score) order: take the best max_detections.
  std::vector<int32_t> sel(static_cast<size_t>(3 * batch));  // [src_off B][dst_off B][take B]
  int64_t src = 0, dst = 0, max_take = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t tk = kept_h[b] < p.max_detections ? kept_h[b] : p.max_detections;
    sel[b] = static_cast<int32_t>(src);
    sel[batch + b] = static_cast<int32_t>(dst);
    sel[2 * batch + b] = static_cast<int32_t>(tk);
    src += kept_h[b];
    dst += tk;
    if (tk > max_take) max_take = tk;
  }
  if (dst == 0) return Status::ok();
  Buffer<int32_t> d_sel, o_classes;
  Buffer<float4> o_boxes;
  Buffer<float> o_scores;
  RN_TRY(upload_vector(call, d_sel, sel));
  RN_TRY(o_boxes.alloc(call, dst));
  RN_TRY(o_scores.alloc(call, dst));
  RN_TRY(o_classes.alloc(call, dst));
  gather_kernel<<<dim3(blocks_for(max_take, kThreads, INT32_MAX), static_cast<unsigned int>(batch)), kThreads, 0,
                  call.stream()>>>(forder.get(), d_sel.get(), d_sel.get() + batch, d_sel.get() + 2 * batch,
                                   m_boxes.get(), m_scores.get(), m_classes.get(), o_boxes.get(), o_scores.get(),
                                   o_classes.get());
  RN_LAUNCHED("gather_kernel");
  std::vector<float> h_boxes(static_cast<size_t>(dst) * 4), h_scores(static_cast<size_t>(dst));
  std::vector<int32_t> h_classes(static_cast<size_t>(dst));
  RN_TRY(download(call, h_boxes.data(), reinterpret_cast<const float*>(o_boxes.get()), dst * 4));
  RN_TRY(download(call, h_scores.data(), o_scores.get(), dst));
  RN_TRY(download(call, h_classes.data(), o_classes.get(), dst));
  RN_TRY(call.sync());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t o = sel[batch + b], tk = sel[2 * batch + b];
    Detections& det = out[b];
    det.boxes.assign(h_boxes.begin() + 4 * o, h_boxes.begin() + 4 * (o + tk));
    det.scores.assign(h_scores.begin() + o, h_scores.begin() + o + tk);
    det.classes.assign(h_classes.begin() + o, h_classes.begin() + o + tk);
  }
  return Status::ok();
}

}  // namespace retinanet
