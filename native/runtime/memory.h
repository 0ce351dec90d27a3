// Process allocator setting for workloads that free and reallocate many large buffers (tfjs
// tensors: every kernel output is a fresh ArrayBuffer, freed when its tensor is disposed or when
// V8 collects it).
// By default glibc hands such buffers back to the OS and the next one page-faults in again, which
// costs as much as a convolution's arithmetic at some sizes.
#pragma once

namespace retinanet {

// glibc: every buffer comes from the heap (none is mmapped) and freed memory stays in the
// process (the heap is never trimmed). Returns false (and changes nothing)
// where the C library has no such setting.
bool retain_freed_memory();

}  // namespace retinanet
