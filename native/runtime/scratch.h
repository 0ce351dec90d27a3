// Grow-only per-thread scratch buffers for the large temporaries of the convolution and GEMM
// kernels (packed B, column matrices, Winograd's transforms): a fresh allocation per call costs
// page faults and a memset comparable to the arithmetic. Each slot is one buffer per calling
// thread; the memory stays with the thread (bounded by the kernels' own chunking: 8 MB per slot,
// Winograd's transformed tiles 32 MB, its filters 36 x in x out channels: 26 MB at 256 -> 720).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace retinanet {

// kColumns also holds Winograd's transformed inputs; kProducts and kFilters its products and
// transformed filters.
enum class ScratchSlot { kPackedB = 0, kColumns = 1, kProducts = 2, kFilters = 3, kCount = 4 };

// At least n floats, 64-byte aligned (the GEMM's vector loads from packed B never straddle a
// cache line), contents unspecified; valid until the same thread asks the same slot again.
inline float* scratch_floats(ScratchSlot slot, size_t n) {
  thread_local std::vector<float> buffers[static_cast<int>(ScratchSlot::kCount)];
  std::vector<float>& b = buffers[static_cast<int>(slot)];
  if (b.size() < n + 16) b.resize(n + 16);
  const uintptr_t p = reinterpret_cast<uintptr_t>(b.data());
  return b.data() + ((64 - p % 64) % 64) / sizeof(float);
}

}  // namespace retinanet
