import { native } from './native';
import * as v from './validate';

/** Threads the addon's pool uses (the calling thread included). */
export function numThreads(): number {
  return native().numThreads();
}

/**
 * Sets the pool's thread count (1…256); 0 restores the default (the machine's cores, or
 * `RETINANET_NUM_THREADS` read at load). Results do not depend on it: reductions are merged in a
 * fixed order.
 */
export function setNumThreads(n: number): void {
  native().setNumThreads(v.integer('n', n, 0, 256));
}

/**
 * Devices the ops can run on here: always 'cpu', and 'cuda' where this build has the CUDA kernels and
 * cudaGetDeviceCount finds a GPU that runs them (asked once; an error there means no 'cuda').
 */
export function devices(): v.Device[] {
  return native().devices() as v.Device[];
}

/** Why 'cuda' is or is not in {@link devices}: this build's CUDA kernels, the devices found, CUDA's message. */
export interface CudaInfo {
  /** The addon was compiled with the CUDA kernels (nvcc was found when it was built). */
  built: boolean;
  /** cudaGetDeviceCount's answer; 0 without a driver or GPU. */
  devices: number;
  /** CUDA's message when there is no usable device; empty otherwise. */
  error: string;
}

export function cudaInfo(): CudaInfo {
  return native().cudaInfo();
}

/**
 * The machine's single-precision peak in GFLOP/s as a register-only FMA loop on every pool thread
 * measures it (about 0.1 s): the benchmarks' yardstick.
 */
export function fmaPeakGflops(): number {
  return native().fmaPeakGflops();
}

/**
 * Keeps freed memory in the process instead of returning it to the OS (glibc: blocks up to 32 MB
 * from the heap, up to 256 MB kept free). Every tfjs kernel output is a fresh buffer freed only
 * when V8 collects it; with glibc's defaults the next one page-faults in again, which costs as
 * much as the arithmetic of a strided convolution's backward pass (measured: 190 → 350 GFLOP/s).
 * Process-wide, so off unless called; the `retinanet` command and the benchmarks call it.
 * Returns false where the C library has no such setting (nothing changes then).
 */
export function retainFreedMemory(): boolean {
  return native().retainFreedMemory();
}
