#include "cpu_isa.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace retinanet {

CpuIsa cpu_isa_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
    return CpuIsa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::kAvx2;
#endif
  return CpuIsa::kBaseline;
}

CpuIsa cpu_isa() {
  static const CpuIsa isa = [] {
    const CpuIsa best = cpu_isa_supported();
    const char* want = std::getenv("RETINANET_CPU_ISA");
    CpuIsa asked = best;
    if (want != nullptr && std::strcmp(want, "avx2") == 0) asked = CpuIsa::kAvx2;
    if (want != nullptr && std::strcmp(want, "baseline") == 0) asked = CpuIsa::kBaseline;
    return static_cast<int>(asked) < static_cast<int>(best) ? asked : best;
  }();
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512: return "avx512";
    case CpuIsa::kAvx2: return "avx2";
    default: return "baseline";
  }
}

long long l2_cache_bytes() {
  static const long long bytes = [] {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (v > 0) return static_cast<long long>(v);
#endif
    return 1LL << 20;
  }();
  return bytes;
}

}  // namespace retinanet
