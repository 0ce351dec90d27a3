// The vector instruction set the hand-dispatched kernels (the GEMM behind every convolution and
// matmul, the FMA peak loop) use: the best the CPU has, or a lower one when the environment
// variable RETINANET_CPU_ISA asks for it (avx512, avx2, baseline), so that each path can be
// measured on one machine. The loops compiled with target_clones (dispatch.h) follow the CPU.
#pragma once

#include <functional>
#include <string>
#include <vector>

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

// How many of the CPUs this process may run on share one L2 cache (SMT siblings of one core:
// 2 on a 2-vCPU VM made of one core's hyperthreads, 1 where each vCPU is a core), from Linux's
// /sys/devices/system/cpu/cpuN/cache/index*/shared_cpu_list; 1 where that cannot be read.
int l2_sharing_cpus();

// The CPUs a Linux CPU list names ("0-3,8,10-11"); empty when the text is not one.
std::vector<int> parse_cpu_list(const std::string& text);

// Of the allowed CPUs, the most that share one L2, each CPU's sharers given as a CPU list (the
// pure part of l2_sharing_cpus, for tests): at least 1.
int most_sharing(const std::vector<int>& allowed, const std::function<std::string(int cpu)>& sharers_of);

}  // namespace retinanet
