// Process allocator setting for workloads that free and reallocate many large buffers (tfjs
// tensors: every kernel output is a fresh ArrayBuffer, freed only when V8 collects it, in batches).
// By default glibc hands such buffers back to the OS and the next one page-faults in again, which
// costs as much as a convolution's arithmetic at some sizes.
#pragma once

namespace retinanet {

// glibc: every buffer comes from the heap (none is mmapped) and freed memory stays in the
// process (up to 256 MB at the top of the heap before it is returned). Returns false (and changes nothing)
// where the C library has no such setting.
bool retain_freed_memory();

}  // namespace retinanet
