// The C library's handling of freed memory, for processes of our own.
import { native } from './addon';

/**
 * Keeps freed memory in the process instead of returning it to the OS (glibc: every block from
 * the heap, none mmapped; up to 256 MB kept free). Every tfjs kernel output is a fresh buffer freed only
 * when V8 collects it; with glibc's defaults the next one page-faults in again, which costs as
 * much as the arithmetic of a strided convolution's backward pass (measured: 190 → 350 GFLOP/s).
 * Process-wide, so off unless called; the `retinanet` command and the benchmarks call it.
 * Returns false where the C library has no such setting (nothing changes then).
 */
export function retainFreedMemory(): boolean {
  return native().retainFreedMemory();
}
