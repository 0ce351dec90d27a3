// Whether this build has CUDA kernels and whether a CUDA device is usable here (no Node headers,
// no CUDA headers: the binding includes this).
#pragma once
#include <string>

namespace retinanet {

struct CudaAvailability {
  bool built = false;   // compiled with the CUDA kernels (native/cuda/*.cu)
  int devices = 0;      // cudaGetDeviceCount; 0 when it reports an error
  std::string error;    // why there is no device (CUDA's message), empty otherwise
};

// Asked once (the first call) and cached. Never aborts: a missing driver or GPU is devices = 0.
const CudaAvailability& cuda_availability();

}  // namespace retinanet
