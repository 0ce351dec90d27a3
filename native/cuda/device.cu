// Device discovery and the per-call plumbing of common.cuh.
#include <string>

#include "../core/cuda.h"
#include "common.cuh"

namespace retinanet {
namespace cuda {
namespace {

__global__ void probe_kernel() {}

CudaAvailability probe() {
  CudaAvailability a;
  a.built = true;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    a.error = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
    cudaGetLastError();  // not sticky, but leave nothing behind
    return a;
  }
  if (count <= 0) {
    a.error = "cudaGetDeviceCount: no CUDA device";
    return a;
  }
  // The device must run this binary's kernels (sm_75 and newer, or PTX it can JIT).
  e = cudaSetDevice(0);
  cudaFuncAttributes attr;
  if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, probe_kernel);
  if (e != cudaSuccess) {
    int major = 0, minor = 0;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
    a.error = "device 0 (compute capability " + std::to_string(major) + "." + std::to_string(minor) +
              ") cannot run this build's kernels: " + cudaGetErrorString(e);
    cudaGetLastError();
    return a;
  }
  a.devices = count;
  return a;
}

bool pools_supported() {
  static const bool supported = [] {
    int v = 0;
    return cudaDeviceGetAttribute(&v, cudaDevAttrMemoryPoolsSupported, 0) == cudaSuccess && v != 0;
  }();
  return supported;
}

}  // namespace

Status failure(cudaError_t e, const char* what) {
  return Status::cuda_error(std::string("CUDA error: ") + cudaGetErrorString(e) + " (" +
                            cudaGetErrorName(e) + ") in " + what);
}

Call::~Call() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

Status Call::begin() {
  const CudaAvailability& a = cuda_availability();
  if (a.devices <= 0) return Status::no_cuda("device 'cuda': no usable CUDA device (" + a.error + ")");
  RN_CUDA(cudaSetDevice(0));
  cudaGetLastError();  // a non-sticky error left by someone else must not be reported as ours
  RN_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  return Status::ok();
}

Status Call::sync() const {
  RN_CUDA(cudaStreamSynchronize(stream_));
  RN_CUDA(cudaGetLastError());
  return Status::ok();
}

Status device_alloc(void** p, size_t bytes, cudaStream_t stream) {
  // Stream-ordered allocation (a pool: no device-wide sync per call) where supported.
  if (pools_supported()) {
    RN_CUDA(cudaMallocAsync(p, bytes, stream));
  } else {
    RN_CUDA(cudaMalloc(p, bytes));
  }
  return Status::ok();
}

void device_free(void* p, cudaStream_t stream) {
  // Errors here have nothing to return to (destructors); a broken context already failed the call.
  if (pools_supported()) {
    if (cudaFreeAsync(p, stream) != cudaSuccess) cudaGetLastError();
  } else {
    if (cudaFree(p) != cudaSuccess) cudaGetLastError();
  }
}

}  // namespace cuda

const CudaAvailability& cuda_availability() {
  static const CudaAvailability a = cuda::probe();
  return a;
}

}  // namespace retinanet
