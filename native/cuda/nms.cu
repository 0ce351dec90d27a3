// nms / batchedNms on the CUDA device (see nms.cuh for the method).
#include <climits>
#include <vector>

#include "../core/box_geometry.h"
#include "../core/nms.h"
#include "nms.cuh"
#include "sort.cuh"

namespace retinanet {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kBlockRows = 64;        // rows (and columns) per mask tile: one 64-bit word per row
constexpr int kSweepThreads = 128;
constexpr int kSweepSharedWords = 2048;  // groups spanning up to 2048 words sweep in shared memory

__device__ __forceinline__ uint32_t group_of_key(uint64_t key) { return static_cast<uint32_t>(key >> 32); }

// Sort keys: (group, score descending); the stable sort keeps index order among equal keys.
// Non-candidates get the largest key and sort last; `count` receives the number of candidates.
__global__ void __launch_bounds__(kThreads)
key_kernel(const float* __restrict__ scores, const int32_t* __restrict__ groups, int64_t n, bool use_thr,
           float thr, uint64_t* __restrict__ keys, int32_t* __restrict__ values, int* __restrict__ count) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  bool valid = false;
  if (i < n) {
    const float s = scores[i];
    valid = !use_thr || s > thr;
    const uint32_t g = groups != nullptr ? static_cast<uint32_t>(groups[i]) ^ 0x80000000u : 0u;
    keys[i] = valid ? (static_cast<uint64_t>(g) << 32) | desc_score_key(s) : ~0ull;
    values[i] = static_cast<int32_t>(i);
  }
  const int c = __syncthreads_count(valid);
  if (threadIdx.x == 0 && c > 0) atomicAdd(count, c);
}

// Sorted boxes (contiguous for the mask kernel) and group-start flags.
__global__ void __launch_bounds__(kThreads)
gather_kernel(const float4* __restrict__ boxes, const int32_t* __restrict__ order,
              const uint64_t* __restrict__ keys, int64_t c, float4* __restrict__ sorted_boxes,
              int32_t* __restrict__ start) {
  const int64_t p = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (p >= c) return;
  sorted_boxes[p] = boxes[order[p]];
  start[p] = p == 0 || group_of_key(keys[p]) != group_of_key(keys[p - 1]);
}

// Group s (0-based) spans sorted positions [begin[s], end[s]).
__global__ void __launch_bounds__(kThreads)
segment_kernel(const uint64_t* __restrict__ keys, const int32_t* __restrict__ seg1, int64_t c,
               int32_t* __restrict__ begin, int32_t* __restrict__ end) {
  const int64_t p = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (p >= c) return;
  const int32_t s = seg1[p] - 1;
  if (p == 0 || group_of_key(keys[p]) != group_of_key(keys[p - 1])) begin[s] = static_cast<int32_t>(p);
  if (p == c - 1 || group_of_key(keys[p]) != group_of_key(keys[p + 1])) end[s] = static_cast<int32_t>(p + 1);
}

// Row block rb needs column blocks rb .. (end of the group of its last row - 1) / 64.
__global__ void __launch_bounds__(kThreads)
width_kernel(const int32_t* __restrict__ seg1, const int32_t* __restrict__ end, int64_t c, int64_t nb,
             int64_t* __restrict__ width) {
  const int64_t rb = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (rb >= nb) return;
  const int64_t last = rb * kBlockRows + kBlockRows - 1 < c ? rb * kBlockRows + kBlockRows - 1 : c - 1;
  const int64_t group_end = end[seg1[last] - 1];
  width[rb] = (group_end - 1) / kBlockRows - rb + 1;
}

// One block per (row block, column block) tile: bit jj of row i's word is set when candidate
// j = cb * 64 + jj comes after i in i's group and IoU(j, i) > t.
__global__ void __launch_bounds__(kBlockRows)
mask_kernel(const float4* __restrict__ boxes, const int32_t* __restrict__ seg1, const int32_t* __restrict__ end,
            int64_t c, int64_t nb, const int64_t* __restrict__ width, const int64_t* __restrict__ tiles_incl,
            float t, unsigned long long* __restrict__ mask) {
  __shared__ float cx1[kBlockRows], cy1[kBlockRows], cx2[kBlockRows], cy2[kBlockRows], carea[kBlockRows];
  const int64_t tile = blockIdx.x;
  // Row block: the first rb with tiles_incl[rb] > tile.
  int64_t lo = 0, hi = nb - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (tiles_incl[mid] > tile) hi = mid; else lo = mid + 1;
  }
  const int64_t rb = lo;
  const int64_t w = width[rb];
  const int64_t first_tile = tiles_incl[rb] - w;
  const int64_t k = tile - first_tile;
  const int64_t cb = rb + k;
  const int64_t j0 = cb * kBlockRows;
  if (j0 + threadIdx.x < c) {
    const float4 b = boxes[j0 + threadIdx.x];
    cx1[threadIdx.x] = b.x;
    cy1[threadIdx.x] = b.y;
    cx2[threadIdx.x] = b.z;
    cy2[threadIdx.x] = b.w;
    const float bb[4] = {b.x, b.y, b.z, b.w};
    carea[threadIdx.x] = box_area(bb);
  }
  __syncthreads();
  const int64_t i = rb * kBlockRows + threadIdx.x;
  if (i >= c) return;
  const float4 r = boxes[i];
  const float rv[4] = {r.x, r.y, r.z, r.w};
  const float rarea = box_area(rv);
  const int64_t group_end = end[seg1[i] - 1];
  unsigned long long bits = 0;
  const int start = cb == rb ? threadIdx.x + 1 : 0;
  for (int jj = start; jj < kBlockRows; ++jj) {
    if (j0 + jj >= group_end) break;
    // Candidate first, kept box second: the CPU's argument order.
    if (box_iou(cx1[jj], cy1[jj], cx2[jj], cy2[jj], carea[jj], r.x, r.y, r.z, r.w, rarea) > t) {
      bits |= 1ull << jj;
    }
  }
  mask[first_tile * kBlockRows + threadIdx.x * w + k] = bits;
}

// One block per group: the greedy pass in score order. `removed` holds one bit per sorted
// position; a group's words live in shared memory when they fit, else in `global_removed`
// (zeroed; words at group boundaries are shared, hence atomicOr there). Only kept rows write,
// and a row's bits only name later rows of its own group.
__global__ void __launch_bounds__(kSweepThreads)
sweep_kernel(const unsigned long long* __restrict__ mask, const int64_t* __restrict__ width,
             const int64_t* __restrict__ tiles_incl, const int32_t* __restrict__ begin,
             const int32_t* __restrict__ end, int64_t max_keep, unsigned long long* __restrict__ global_removed,
             uint8_t* __restrict__ keep_sorted) {
  extern __shared__ unsigned long long shared_removed[];
  const int64_t b = begin[blockIdx.x];
  const int64_t e = end[blockIdx.x];
  const int64_t base = b / kBlockRows;
  const int64_t last_word = (e - 1) / kBlockRows;
  const int64_t words = last_word - base + 1;
  const bool in_shared = words <= kSweepSharedWords;
  unsigned long long* removed = in_shared ? shared_removed : global_removed + base;
  if (in_shared) {
    for (int64_t q = threadIdx.x; q < words; q += kSweepThreads) shared_removed[q] = 0ull;
  }
  __syncthreads();
  volatile unsigned long long* vremoved = removed;
  int64_t cur_word = -1;
  unsigned long long cur = 0;
  int64_t kept = 0;
  for (int64_t i = b; i < e; ++i) {
    const int64_t wi = i / kBlockRows;
    if (wi != cur_word) {
      cur = vremoved[wi - base];
      cur_word = wi;
    }
    if ((cur >> (i % kBlockRows)) & 1ull) continue;  // the same answer in every thread
    if (max_keep >= 0 && kept >= max_keep) break;
    ++kept;
    if (threadIdx.x == 0) keep_sorted[i] = 1;
    const int64_t rb = wi;
    const int64_t w = width[rb];
    const unsigned long long* row = mask + (tiles_incl[rb] - w) * kBlockRows + (i - rb * kBlockRows) * w;
    const int64_t kmax = w < last_word - rb + 1 ? w : last_word - rb + 1;
    for (int64_t k = threadIdx.x; k < kmax; k += kSweepThreads) {
      const unsigned long long m = row[k];
      if (m == 0ull) continue;
      if (in_shared) {
        removed[rb + k - base] |= m;
      } else {
        atomicOr(removed + (rb + k - base), m);
      }
    }
    __syncthreads();
    cur = vremoved[wi - base];
  }
}

__global__ void __launch_bounds__(kThreads)
scatter_kernel(const int32_t* __restrict__ order, const uint8_t* __restrict__ keep_sorted, int64_t c,
               uint8_t* __restrict__ keep) {
  const int64_t p = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (p < c) keep[order[p]] = keep_sorted[p];
}

// Final order of the kept: score descending, ties by lower index (unique 64-bit keys).
__global__ void __launch_bounds__(kThreads)
final_key_kernel(const float* __restrict__ scores, const uint8_t* __restrict__ keep, int64_t n,
                 uint64_t* __restrict__ keys, int* __restrict__ count) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  bool k = false;
  if (i < n) {
    k = keep[i] != 0;
    keys[i] = k ? (static_cast<uint64_t>(desc_score_key(scores[i])) << 32) | static_cast<uint32_t>(i) : ~0ull;
  }
  const int c = __syncthreads_count(k);
  if (threadIdx.x == 0 && c > 0) atomicAdd(count, c);
}

Status read_int(const Call& call, const int* d, int* h) {
  RN_TRY(download(call, h, d, 1));
  return call.sync();
}

}  // namespace

Status nms_on_device(const Call& call, const NmsDeviceInputs& in, uint8_t* keep) {
  const int64_t n = in.n;
  if (n == 0) return Status::ok();
  if (n > INT32_MAX / 4) return Status::range_error("boxes: too many for the CUDA NMS");
  RN_CUDA(cudaMemsetAsync(keep, 0, static_cast<size_t>(n), call.stream()));
  const unsigned int grid_n = blocks_for(n, kThreads, INT32_MAX);

  Buffer<uint64_t> keys, sorted_keys;
  Buffer<int32_t> values, order;
  Buffer<int> count;
  RN_TRY(keys.alloc(call, n));
  RN_TRY(values.alloc(call, n));
  RN_TRY(sorted_keys.alloc(call, n));
  RN_TRY(order.alloc(call, n));
  RN_TRY(count.alloc(call, 1));
  RN_TRY(zero(call, count));
  key_kernel<<<grid_n, kThreads, 0, call.stream()>>>(in.scores, in.groups, n, in.use_score_threshold,
                                                      in.score_threshold, keys.get(), values.get(), count.get());
  RN_LAUNCHED("key_kernel");
  RN_TRY(sort_pairs(call, keys.get(), sorted_keys.get(), values.get(), order.get(), n));
  int c32 = 0;
  RN_TRY(read_int(call, count.get(), &c32));
  const int64_t c = c32;
  if (c == 0 || in.max_per_group == 0) return Status::ok();

  const unsigned int grid_c = blocks_for(c, kThreads, INT32_MAX);
  Buffer<float4> sorted_boxes;
  Buffer<int32_t> start, seg1, seg_begin, seg_end;
  RN_TRY(sorted_boxes.alloc(call, c));
  RN_TRY(start.alloc(call, c));
  RN_TRY(seg1.alloc(call, c));
  gather_kernel<<<grid_c, kThreads, 0, call.stream()>>>(reinterpret_cast<const float4*>(in.boxes), order.get(),
                                                        sorted_keys.get(), c, sorted_boxes.get(), start.get());
  RN_LAUNCHED("gather_kernel");
  RN_TRY(inclusive_sum(call, start.get(), seg1.get(), c));
  int32_t groups = 0;
  RN_TRY(download(call, &groups, seg1.get() + (c - 1), 1));
  RN_TRY(call.sync());
  RN_TRY(seg_begin.alloc(call, groups));
  RN_TRY(seg_end.alloc(call, groups));
  segment_kernel<<<grid_c, kThreads, 0, call.stream()>>>(sorted_keys.get(), seg1.get(), c, seg_begin.get(),
                                                         seg_end.get());
  RN_LAUNCHED("segment_kernel");

  const int64_t nb = (c + kBlockRows - 1) / kBlockRows;
  Buffer<int64_t> width, tiles_incl;
  RN_TRY(width.alloc(call, nb));
  RN_TRY(tiles_incl.alloc(call, nb));
  width_kernel<<<blocks_for(nb, kThreads, INT32_MAX), kThreads, 0, call.stream()>>>(seg1.get(), seg_end.get(), c,
                                                                                     nb, width.get());
  RN_LAUNCHED("width_kernel");
  RN_TRY(inclusive_sum(call, width.get(), tiles_incl.get(), nb));
  int64_t tiles = 0;
  RN_TRY(download(call, &tiles, tiles_incl.get() + (nb - 1), 1));
  RN_TRY(call.sync());
  if (tiles > INT32_MAX) return Status::range_error("boxes: the NMS mask is too large for one launch");

  Buffer<unsigned long long> mask, removed;
  Buffer<uint8_t> keep_sorted;
  RN_TRY(mask.alloc(call, tiles * kBlockRows));
  RN_TRY(removed.alloc(call, nb));
  RN_TRY(zero(call, removed));
  RN_TRY(keep_sorted.alloc(call, c));
  RN_TRY(zero(call, keep_sorted));
  mask_kernel<<<static_cast<unsigned int>(tiles), kBlockRows, 0, call.stream()>>>(
      sorted_boxes.get(), seg1.get(), seg_end.get(), c, nb, width.get(), tiles_incl.get(), in.iou_threshold,
      mask.get());
  RN_LAUNCHED("mask_kernel");
  sweep_kernel<<<static_cast<unsigned int>(groups), kSweepThreads, kSweepSharedWords * sizeof(unsigned long long),
                 call.stream()>>>(mask.get(), width.get(), tiles_incl.get(), seg_begin.get(), seg_end.get(),
                                  in.max_per_group, removed.get(), keep_sorted.get());
  RN_LAUNCHED("sweep_kernel");
  scatter_kernel<<<grid_c, kThreads, 0, call.stream()>>>(order.get(), keep_sorted.get(), c, keep);
  RN_LAUNCHED("scatter_kernel");
  return Status::ok();
}

}  // namespace cuda

Status batched_nms_cuda(const float* boxes, const float* scores, const int32_t* groups, int64_t n,
                        const NmsParams& p, std::vector<int32_t>& keep) {
  keep.clear();
  if (n == 0 || p.max_output == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_boxes, d_scores;
  cuda::Buffer<int32_t> d_groups;
  cuda::Buffer<uint8_t> d_keep;
  RN_TRY(cuda::upload(call, d_boxes, boxes, n * 4));
  RN_TRY(cuda::upload(call, d_scores, scores, n));
  if (groups != nullptr) RN_TRY(cuda::upload(call, d_groups, groups, n));
  RN_TRY(d_keep.alloc(call, n));
  cuda::NmsDeviceInputs in{d_boxes.get(), d_scores.get(), groups != nullptr ? d_groups.get() : nullptr, n,
                           nms_float_threshold(p.iou_threshold), p.use_score_threshold, p.score_threshold,
                           p.max_output};
  RN_TRY(cuda::nms_on_device(call, in, d_keep.get()));

  cuda::Buffer<uint64_t> keys, sorted;
  cuda::Buffer<int> count;
  RN_TRY(keys.alloc(call, n));
  RN_TRY(sorted.alloc(call, n));
  RN_TRY(count.alloc(call, 1));
  RN_TRY(cuda::zero(call, count));
  cuda::final_key_kernel<<<cuda::blocks_for(n, cuda::kThreads, INT32_MAX), cuda::kThreads, 0, call.stream()>>>(
      d_scores.get(), d_keep.get(), n, keys.get(), count.get());
  RN_LAUNCHED("final_key_kernel");
  RN_TRY(cuda::sort_keys(call, keys.get(), sorted.get(), n));
  int kept = 0;
  RN_TRY(cuda::read_int(call, count.get(), &kept));
  int64_t take = kept;
  if (p.max_output >= 0 && take > p.max_output) take = p.max_output;
  std::vector<uint64_t> host(static_cast<size_t>(take));
  RN_TRY(cuda::download(call, host.data(), sorted.get(), take));
  RN_TRY(call.sync());
  keep.resize(static_cast<size_t>(take));
  for (int64_t q = 0; q < take; ++q) keep[q] = static_cast<int32_t>(host[q] & 0xffffffffu);
  return Status::ok();
}

}  // namespace retinanet
