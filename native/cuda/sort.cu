// CUB radix sorts and scans (see sort.cuh). Kept in one file: CUB's kernels are the slowest part of
// the build, so each instantiation is compiled once.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <climits>

#include "sort.cuh"

namespace retinanet {
namespace cuda {
namespace {

Status too_many(int64_t n) {
  return n > INT32_MAX ? Status::range_error("too many elements for a CUDA sort (at most 2^31 - 1)")
                       : Status::ok();
}

// Runs a CUB call twice: once for the temporary size, once for real.
template <typename F>
Status with_temp(const Call& call, const char* what, F f) {
  size_t bytes = 0;
  cudaError_t e = f(nullptr, bytes);
  if (e != cudaSuccess) return failure(e, what);
  Buffer<unsigned char> temp;
  RN_TRY(temp.alloc(call, static_cast<int64_t>(bytes > 0 ? bytes : 1)));
  e = f(temp.get(), bytes);
  if (e != cudaSuccess) return failure(e, what);
  return Status::ok();
}

}  // namespace

Status sort_pairs(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, const int32_t* values_in,
                  int32_t* values_out, int64_t n) {
  if (n <= 0) return Status::ok();
  RN_TRY(too_many(n));
  return with_temp(call, "cub::DeviceRadixSort::SortPairs", [&](void* t, size_t& bytes) {
    return cub::DeviceRadixSort::SortPairs(t, bytes, keys_in, keys_out, values_in, values_out,
                                           static_cast<int>(n), 0, 64, call.stream());
  });
}

Status sort_keys(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, int64_t n) {
  if (n <= 0) return Status::ok();
  RN_TRY(too_many(n));
  return with_temp(call, "cub::DeviceRadixSort::SortKeys", [&](void* t, size_t& bytes) {
    return cub::DeviceRadixSort::SortKeys(t, bytes, keys_in, keys_out, static_cast<int>(n), 0, 64,
                                          call.stream());
  });
}

Status segmented_sort_keys(const Call& call, const uint64_t* keys_in, uint64_t* keys_out, int64_t n,
                           int64_t segments, const int32_t* begin, const int32_t* end) {
  if (n <= 0 || segments <= 0) return Status::ok();
  RN_TRY(too_many(n));
  RN_TRY(too_many(segments));
  return with_temp(call, "cub::DeviceSegmentedRadixSort::SortKeys", [&](void* t, size_t& bytes) {
    return cub::DeviceSegmentedRadixSort::SortKeys(t, bytes, keys_in, keys_out, static_cast<int>(n),
                                                   static_cast<int>(segments), begin, end, 0, 64,
                                                   call.stream());
  });
}

Status inclusive_sum(const Call& call, const int32_t* in, int32_t* out, int64_t n) {
  if (n <= 0) return Status::ok();
  RN_TRY(too_many(n));
  return with_temp(call, "cub::DeviceScan::InclusiveSum", [&](void* t, size_t& bytes) {
    return cub::DeviceScan::InclusiveSum(t, bytes, in, out, static_cast<int>(n), call.stream());
  });
}

Status inclusive_sum(const Call& call, const int64_t* in, int64_t* out, int64_t n) {
  if (n <= 0) return Status::ok();
  RN_TRY(too_many(n));
  return with_temp(call, "cub::DeviceScan::InclusiveSum", [&](void* t, size_t& bytes) {
    return cub::DeviceScan::InclusiveSum(t, bytes, in, out, static_cast<int>(n), call.stream());
  });
}

}  // namespace cuda
}  // namespace retinanet
