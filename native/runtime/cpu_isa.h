// The vector instruction set the hand-dispatched kernels (the GEMM behind every convolution and
// matmul, the FMA peak loop) use: the best the CPU has, or a lower one when the environment
// variable RETINANET_CPU_ISA asks for it (avx512, avx2, baseline), so that each path can be
// measured on one machine. The loops compiled with target_clones (dispatch.h) follow the CPU.
#pragma once

namespace retinanet {

enum class CpuIsa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The best ISA this CPU (and this build) runs.
CpuIsa cpu_isa_supported();

// The ISA in use: RETINANET_CPU_ISA capped at the supported one (read once; an unknown value is
// ignored here: the TypeScript loader rejects it first).
CpuIsa cpu_isa();

const char* cpu_isa_name(CpuIsa isa);

// The per-core L2 cache in bytes as the C library reports it (glibc reads CPUID), or 1 MB where it
// reports none: for the GEMM's cache blocking.
long long l2_cache_bytes();

}  // namespace retinanet
