// Branch-free float32 exp and log1p that compilers vectorize inside loops (no libm calls),
// accurate to a few ulp: Cephes-style range reduction and minimax polynomials.
#pragma once
#include <cstdint>

#include "../runtime/dispatch.h"

namespace retinanet {
namespace vmath {

// __builtin_bit_cast, not memcpy: a memcpy'd local inside `omp simd` loops becomes a
// privatized array and GCC then drops the vectorized loop.
RETINANET_INLINE float as_float(int32_t i) { return __builtin_bit_cast(float, i); }
RETINANET_INLINE int32_t as_int(float f) { return __builtin_bit_cast(int32_t, f); }

// e^x for x in [-87.3, 88.7]; inputs outside are clamped (e^-87.3 ~ 1.2e-38, the smallest
// normal float: callers only use it where a smaller value cannot matter).
RETINANET_INLINE float exp(float x) {
  x = x < 88.7f ? x : 88.7f;
  x = x > -87.3f ? x : -87.3f;
  // Round x / ln 2 to an integer by adding 1.5 * 2^23 (no float->int conversion, which
  // would stop GCC from vectorizing); the integer is then read back from the bits.
  const float t = x * 1.44269504088896341f + 12582912.0f;
  const float fn = t - 12582912.0f;
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  const int32_t n = as_int(t) - 0x4b400000;
  return p * as_float((n + 127) << 23);
}

// log(1 + x) for x in [0, 1] as x * P(x), P a degree-8 fit of log1p(x) / x on Chebyshev nodes:
// relative error < 2.5e-7 over the whole range (tiny x included), no division, no bit tricks.
// The losses only need log1p(exp(-|z|)), whose argument is always in (0, 1]. Also compiled for
// the CUDA kernels (native/core/focal_math.h), so host and device share the polynomial.
RETINANET_HD RETINANET_INLINE float log1p_unit(float x) {
  float p = 0.0051054200157523155f;
  p = p * x - 0.02899029850959778f;
  p = p * x + 0.07737795263528824f;
  p = p * x - 0.1359035223722458f;
  p = p * x + 0.1907118409872055f;
  p = p * x - 0.24833908677101135f;
  p = p * x + 0.3331792950630188f;
  p = p * x - 0.4999943673610687f;
  p = p * x + 0.9999999403953552f;
  return x * p;
}

}  // namespace vmath
}  // namespace retinanet
