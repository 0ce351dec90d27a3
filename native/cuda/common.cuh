// Shared by the CUDA implementations (native/cuda/*.cu): checked runtime calls, one stream per
// call, call-owned device buffers, and the score keys the sorts use. Every CUDA call and kernel
// launch is checked; a failure becomes a Status with CUDA's own message (never an abort).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "../core/status.h"

namespace retinanet {
namespace cuda {

// "<what>: <CUDA's message> (<error name>)"
Status failure(cudaError_t e, const char* what);

#define RN_CUDA(expr)                                                              \
  do {                                                                             \
    const cudaError_t rn_err_ = (expr);                                            \
    if (rn_err_ != cudaSuccess) return ::retinanet::cuda::failure(rn_err_, #expr); \
  } while (0)

// After a <<<...>>> launch: a bad configuration or missing kernel image shows up here.
#define RN_LAUNCHED(name)                                                           \
  do {                                                                              \
    const cudaError_t rn_err_ = cudaGetLastError();                                 \
    if (rn_err_ != cudaSuccess) return ::retinanet::cuda::failure(rn_err_, "launch " name); \
  } while (0)

#define RN_TRY(expr)                               \
  do {                                             \
    ::retinanet::Status rn_st_ = (expr);           \
    if (!rn_st_.is_ok()) return rn_st_;            \
  } while (0)

// One op call: device 0, its own non-blocking stream. Declare it before the call's buffers so
// they are released (stream-ordered) before the stream is destroyed.
class Call {
 public:
  Call() = default;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call();
  // Checks that a device is usable (else a kNoCuda status), selects it, creates the stream.
  Status begin();
  cudaStream_t stream() const { return stream_; }
  // Waits for the stream; a kernel fault surfaces here.
  Status sync() const;

 private:
  cudaStream_t stream_ = nullptr;
};

Status device_alloc(void** p, size_t bytes, cudaStream_t stream);
void device_free(void* p, cudaStream_t stream);

// Device memory owned by one call.
template <typename T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  Status alloc(const Call& call, int64_t count) {
    release();
    count_ = count;
    if (count <= 0) return Status::ok();
    stream_ = call.stream();
    void* p = nullptr;
    RN_TRY(device_alloc(&p, static_cast<size_t>(count) * sizeof(T), stream_));
    p_ = static_cast<T*>(p);
    return Status::ok();
  }
  void release() {
    if (p_ != nullptr) device_free(p_, stream_);
    p_ = nullptr;
    count_ = 0;
  }
  T* get() const { return p_; }
  int64_t count() const { return count_; }

 private:
  T* p_ = nullptr;
  int64_t count_ = 0;
  cudaStream_t stream_ = nullptr;
};

template <typename T>
Status upload(const Call& call, Buffer<T>& d, const T* host, int64_t count) {
  RN_TRY(d.alloc(call, count));
  if (count > 0) {
    RN_CUDA(cudaMemcpyAsync(d.get(), host, static_cast<size_t>(count) * sizeof(T),
                            cudaMemcpyHostToDevice, call.stream()));
  }
  return Status::ok();
}

template <typename T>
Status download(const Call& call, T* host, const T* device, int64_t count) {
  if (count > 0) {
    RN_CUDA(cudaMemcpyAsync(host, device, static_cast<size_t>(count) * sizeof(T),
                            cudaMemcpyDeviceToHost, call.stream()));
  }
  return Status::ok();
}

template <typename T>
Status zero(const Call& call, Buffer<T>& d) {
  if (d.count() > 0) {
    RN_CUDA(cudaMemsetAsync(d.get(), 0, static_cast<size_t>(d.count()) * sizeof(T), call.stream()));
  }
  return Status::ok();
}

inline unsigned int blocks_for(int64_t items, int threads, int64_t max_blocks = 65535) {
  int64_t b = (items + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > max_blocks) b = max_blocks;
  return static_cast<unsigned int>(b);
}

// Float bits on host and device.
__host__ __device__ inline uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}
__host__ __device__ inline float bits_float(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// 32-bit key that sorts scores descending as unsigned integers (-0 and +0 equal), as the CPU's
// sort_by_score; score_of_key inverts it.
__host__ __device__ inline uint32_t desc_score_key(float s) {
  if (s == 0.0f) s = 0.0f;
  uint32_t u = float_bits(s);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~u;
}
__host__ __device__ inline float score_of_key(uint32_t k) {
  uint32_t u = ~k;
  u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
  return bits_float(u);
}

// The float result of the double function: the correctly rounded float in all but rare
// double-rounding cases, which is what glibc's expf/logf give the CPU code (CUDA's own expf and
// logf are within 2 ulp). Used where CPU and CUDA should agree to the bit (box coding, scores).
__device__ __forceinline__ float exp_rn(float x) { return static_cast<float>(exp(static_cast<double>(x))); }
__device__ __forceinline__ float log_rn(float x) { return static_cast<float>(log(static_cast<double>(x))); }

}  // namespace cuda
}  // namespace retinanet
