#include "peak.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_isa.h"
#include "dispatch.h"
#include "thread_pool.h"

namespace retinanet {
namespace {

constexpr int64_t kIterations = 1 << 22;

// 12 independent accumulators hide the FMA latency; the result is returned so the loop stays.
template <int W>
RETINANET_INLINE float fma_loop() {
  typedef float vec __attribute__((vector_size(W * 4)));
  vec acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = vec{} + 0.001f * static_cast<float>(i);
  const vec a = vec{} + 0.9999f, b = vec{} + 0.0001f;
  for (int64_t it = 0; it < kIterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * a + b;  // one FMA each (this file may contract)
  }
  float s = 0.0f;
  for (int i = 0; i < 12; ++i) {
    float lane;
    std::memcpy(&lane, &acc[i], sizeof lane);
    s += lane;
  }
  return s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
__attribute__((target("avx512f,fma"))) float loop_avx512() { return fma_loop<16>(); }
__attribute__((target("avx2,fma"))) float loop_avx2() { return fma_loop<8>(); }
#define RETINANET_PEAK_DISPATCH 1
#endif
float loop_base() { return fma_loop<4>(); }

}  // namespace

double fma_peak_gflops() {
  float (*loop)() = loop_base;
  int lanes = 4;
#ifdef RETINANET_PEAK_DISPATCH
  if (cpu_isa() == CpuIsa::kAvx512) {
    loop = loop_avx512;
    lanes = 16;
  } else if (cpu_isa() == CpuIsa::kAvx2) {
    loop = loop_avx2;
    lanes = 8;
  }
#endif
  const int threads = num_threads();
  std::vector<float> sink(static_cast<size_t>(threads));
  const auto start = std::chrono::steady_clock::now();
  parallel_for(threads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) sink[t] = loop();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double flops = 2.0 * 12 * lanes * static_cast<double>(kIterations) * threads;
  return sink[0] == 12345.0f ? 0.0 : flops / seconds / 1e9;
}

}  // namespace retinanet
