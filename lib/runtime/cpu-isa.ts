// The vector instruction set of the hand-dispatched kernels, and the override that lowers it.
import { CPU_ISAS, native } from './addon';

export { CPU_ISAS };

/** A vector instruction set of the CPU kernels: AVX-512, AVX2 + FMA, or portable SSE2 code. */
export type CpuIsa = (typeof CPU_ISAS)[number];

/**
 * The instruction set the GEMM (every convolution and matmul of the accelerator) and the FMA peak
 * loop use (`active`), and the best this CPU has (`supported`). `RETINANET_CPU_ISA=avx2` or
 * `baseline` in the environment lowers `active` (never above `supported`), so each path can be
 * measured on one machine; loops compiled with `target_clones` always follow the CPU.
 */
export function cpuIsa(): { active: CpuIsa; supported: CpuIsa } {
  return native().cpuIsa() as { active: CpuIsa; supported: CpuIsa };
}
