// The machine's floating-point peak as the benchmarks see it: a register-only FMA loop on every
// pool thread, with the vectors of the ISA in use (cpu_isa.h: the widest the CPU has unless
// RETINANET_CPU_ISA lowers it), so GFLOP/s figures read as a fraction of it.
#pragma once

namespace retinanet {

// Single-precision GFLOP/s over all pool threads (each FMA counts as 2 flops).
double fma_peak_gflops();

}  // namespace retinanet
