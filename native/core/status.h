// Errors the core reports about the data itself (argument shapes are checked before the core).
#pragma once
#include <string>

namespace retinanet {

struct Status {
  // kCudaError: a CUDA runtime call or kernel launch failed (message: CUDA's own text);
  // kNoCuda: CUDA asked for where this build has no CUDA kernels or no device is usable.
  enum Code { kOk = 0, kRangeError, kTypeError, kError, kCudaError, kNoCuda } code = kOk;
  std::string message;

  static Status ok() { return {}; }
  static Status range_error(std::string m) { return {kRangeError, std::move(m)}; }
  static Status type_error(std::string m) { return {kTypeError, std::move(m)}; }
  static Status cuda_error(std::string m) { return {kCudaError, std::move(m)}; }
  static Status no_cuda(std::string m) { return {kNoCuda, std::move(m)}; }
  bool is_ok() const { return code == kOk; }
};

}  // namespace retinanet
