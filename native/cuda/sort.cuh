// The CUB device-wide primitives the kernels use, compiled once (sort.cu) behind plain functions.
// Each allocates its temporary storage from the call's stream and runs on that stream.
#pragma once
#include "common.cuh"

namespace retinanet {
namespace cuda {

// Stable (equal keys keep their input order) radix sort of n <= 2^31 - 1 pairs.
Status sort_pairs(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, const int32_t* values_in,
                  int32_t* values_out, int64_t n);
Status sort_keys(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, int64_t n);
// Each segment [begin[s], end[s]) sorted on its own.
Status segmented_sort_keys(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, int64_t n,
                           int64_t segments, const int32_t* begin, const int32_t* end);
Status inclusive_sum(const Call& call, const int32_t* in, int32_t* out, int64_t n);
Status inclusive_sum(const Call& call, const int64_t* in, int64_t* out, int64_t n);

}  // namespace cuda
}  // namespace retinanet
