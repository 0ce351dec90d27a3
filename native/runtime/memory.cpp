#include "memory.h"

#include <cstdlib>  // defines __GLIBC__ where glibc is the C library

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace retinanet {

bool retain_freed_memory() {
#if defined(__GLIBC__)
  // 32 MB is glibc's ceiling for the mmap threshold on 64-bit systems.
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
#else
  return false;
#endif
}

}  // namespace retinanet
