#include "memory.h"

#include <cstdlib>  // defines __GLIBC__ where glibc is the C library

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace retinanet {

bool retain_freed_memory() {
#if defined(__GLIBC__)
  // No block is mmapped, whatever its size: raising the mmap threshold stops at 32 MB, and a
  // training step's largest tensors (ResNet-50 at 600 px, batch 2: 46 MB) would otherwise fault in
  // afresh every step (~13 us per 4 KiB page measured on a VM: 0.1 s per such tensor). And the
  // heap's top is never given back (-1: no trimming): tensors are freed as they are disposed
  // (lib/tfjs/release.ts), and a step's backward pass frees more than 512 MB at the top at once,
  // which the next forward pass faulted in again (a 256 MB threshold: 263,000 page faults a
  // ResNet-50 step, 5.7-6.2 s; none: 19,000, 4.1 s).
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
#else
  return false;
#endif
}

}  // namespace retinanet
