// The vector instruction set of the hand-dispatched kernels, and the override that lowers it.
import { CPU_ISAS, native } from './addon';

export { CPU_ISAS };

/** A vector instruction set of the CPU kernels: AVX-512, AVX2 + FMA, or portable SSE2 code. */
export type CpuIsa = (typeof CPU_ISAS)[number];

let isa: { active: CpuIsa; supported: CpuIsa; bfloat16: boolean } | undefined;

/**
 * The instruction set the GEMM (every convolution and matmul of the accelerator) and the FMA peak
 * loop use (`active`), and the best this CPU has (`supported`). `RETINANET_CPU_ISA=avx2` or
 * `baseline` in the environment lowers `active` (never above `supported`), so each path can be
 * measured on one machine; loops compiled with `target_clones` always follow the CPU.
 * `bfloat16`: whether the opt-in bfloat16 inference can run here (AVX512-BF16, with `active`
 * avx512; see {@link setInferencePrecision}).
 */
export function cpuIsa(): { active: CpuIsa; supported: CpuIsa; bfloat16: boolean } {
  // Fixed once the addon has loaded; asked for by every convolution's precision check (a native
  // call making an object: ~1 ms of an R50 inference).
  isa ??= native().cpuIsa() as { active: CpuIsa; supported: CpuIsa; bfloat16: boolean };
  return { ...isa };
}

/** The precision of inference's convolution products: float32 (the default) or bfloat16 (opt-in). */
export type InferencePrecision = 'float32' | 'bfloat16';

const PRECISIONS: readonly InferencePrecision[] = ['float32', 'bfloat16'];
let precision: InferencePrecision | undefined;

/**
 * `p` as a precision: a TypeError for anything but 'float32' / 'bfloat16', a RangeError for
 * 'bfloat16' where the CPU lacks AVX512-BF16 (the one check of a precision, for every caller).
 */
export function checkPrecision(what: string, p: unknown): InferencePrecision {
  if (!(PRECISIONS as readonly unknown[]).includes(p)) throw new TypeError(`${what}: expected 'float32' or 'bfloat16', got ${JSON.stringify(p)}`);
  const isa = cpuIsa();
  if (p === 'bfloat16' && !isa.bfloat16) {
    throw new RangeError(`${what}: bfloat16 needs a CPU with AVX512-BF16 and the avx512 path (this one: ${isa.active}${isa.active === 'avx512' ? ' without AVX512-BF16' : ''})`);
  }
  return p as InferencePrecision;
}

/**
 * Sets the precision of the forward convolutions that run outside any gradient scope (inference,
 * evaluation, detection; a training step's forward stays float32 whatever this says).
 * 'bfloat16' rounds each convolution's input and weights to bfloat16 and sums the products in
 * float32 (AVX512-BF16: twice float32's multiply-adds per instruction); bias, residual and
 * activation stay float32. Its speed and its cost in AP are in docs/tfjs.md. A RangeError
 * where the CPU lacks AVX512-BF16 (see `cpuIsa().bfloat16`). The environment variable
 * `RETINANET_INFERENCE_PRECISION` sets the starting value.
 */
export function setInferencePrecision(p: InferencePrecision): void {
  precision = checkPrecision('precision', p);
}

/** The precision {@link setInferencePrecision} set (else `RETINANET_INFERENCE_PRECISION`, else 'float32'). */
export function inferencePrecision(): InferencePrecision {
  if (precision === undefined) {
    const env = process.env.RETINANET_INFERENCE_PRECISION;
    precision = env === undefined || env === '' ? 'float32' : checkPrecision('RETINANET_INFERENCE_PRECISION', env);
  }
  return precision;
}
