// The addon's runtime: its loader, the thread pool, devices, the CPU's measured peak, memory.
export { numThreads, setNumThreads } from './threads';
export { devices, cudaInfo } from './devices';
export type { CudaInfo } from './devices';
export { fmaPeakGflops } from './peak';
export { cpuIsa, CPU_ISAS, setInferencePrecision, inferencePrecision } from './cpu-isa';
export type { CpuIsa, InferencePrecision } from './cpu-isa';
export { retainFreedMemory, relaxGarbageCollection, withDeferredExternalMemory } from './memory';
