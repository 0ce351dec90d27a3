// Run-time CPU dispatch: the hot loops are compiled for AVX-512, AVX2+FMA and a portable
// baseline, and the loader picks one per machine (GCC/Clang function multi-versioning), so
// one prebuilt binary runs on every x86-64 CPU.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(RETINANET_NO_DISPATCH)
#define RETINANET_DISPATCH \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RETINANET_DISPATCH
#endif

// Hot helpers called from a dispatched function must be inlined into each clone to get its ISA.
#if defined(__GNUC__) || defined(__clang__)
#define RETINANET_INLINE inline __attribute__((always_inline))
#else
#define RETINANET_INLINE inline
#endif

// Box arithmetic shared with the CUDA kernels (native/cuda/*.cu) is compiled for host and device.
#if defined(__CUDACC__)
#define RETINANET_HD __host__ __device__
#else
#define RETINANET_HD
#endif
