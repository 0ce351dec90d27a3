// Opt-in bfloat16 products for inference: C[m, n] = A[m, k] · B[k, n] with A and B rounded to
// bfloat16 (to nearest, ties to even; denormals to zero, as the instructions do) and the products
// summed in float32 by AVX512-BF16's vdpbf16ps (32 multiply-adds per instruction, twice float32's
// FMA). The epilogue (bias, residual, activation) runs in float32 as the float32 GEMM's.
#pragma once
#include <cstdint>

#include "gemm.h"

namespace retinanet {

// Whether the bfloat16 GEMM runs here: the CPU has AVX512-BF16, this build has the kernel, and
// the ISA in use is AVX-512 (RETINANET_CPU_ISA=avx2 or baseline turns it off).
bool bf16_gemm_available();

// C = A · B (row-major B [k, n], leading dimension ldb; A's rows from pack_rows, as sgemm_rows),
// then the epilogue. Only where bf16_gemm_available(); elsewhere it throws std::logic_error.
void gemm_bf16_rows(int64_t m, int64_t n, int64_t k, PackRowsFn pack_rows, const void* ctx, const float* b,
                    int64_t ldb, float* c, int64_t ldc, const Epilogue& epilogue = {});

// One float rounded to bfloat16 as the kernel rounds (the bits of the upper half of a float32).
uint16_t to_bfloat16(float f);

}  // namespace retinanet
