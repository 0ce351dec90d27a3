// The CPU's measured floating-point peak (the benchmarks' yardstick).
import { native } from './addon';

/**
 * The machine's single-precision peak in GFLOP/s as a register-only FMA loop on every pool thread
 * measures it (about 0.1 s): the benchmarks' yardstick.
 */
export function fmaPeakGflops(): number {
  return native().fmaPeakGflops();
}
