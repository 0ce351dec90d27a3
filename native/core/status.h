// Errors the core reports about the data itself (argument shapes are checked before the core).
#pragma once
#include <string>

namespace retinanet {

struct Status {
  enum Code { kOk = 0, kRangeError, kTypeError, kError } code = kOk;
  std::string message;

  static Status ok() { return {}; }
  static Status range_error(std::string m) { return {kRangeError, std::move(m)}; }
  static Status type_error(std::string m) { return {kTypeError, std::move(m)}; }
  bool is_ok() const { return code == kOk; }
};

}  // namespace retinanet
