#include "gemm_bf16.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "../runtime/cpu_isa.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "gemm_tile.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
#include <immintrin.h>
#define RETINANET_HAVE_BF16 1
#define RETINANET_BF16_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16,avx2,fma")))
#endif

namespace retinanet {

uint16_t to_bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN stays NaN (quiet)
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // denormal: signed zero, as vcvtneps2bf16
  u += 0x7fffu + ((u >> 16) & 1u);                // to nearest, ties to even
  return static_cast<uint16_t>(u >> 16);
}

#ifdef RETINANET_HAVE_BF16

namespace {

using namespace gemm_detail;

// The float32 GEMM's AVX-512 tile (8 rows x 32 columns, 16 accumulators); depth goes in pairs.
constexpr int MR = Tile<16, 2>::MR;
constexpr int NR = Tile<16, 2>::NR;
// Depth per block (even): an A panel is 8 KB, a B strip 32 KB; a task's C and A blocks stay in L2.
constexpr int64_t KC = 512;
constexpr int64_t MC_MAX = 144;

// n floats to bfloat16.
RETINANET_BF16_TARGET void round_row(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), reinterpret_cast<const __m256i&>(h));
  }
  for (; i < n; ++i) dst[i] = to_bfloat16(src[i]);
}

// B [k, n] as bfloat16 pairs: strip s (NR columns), pair p holds (B[2p][j], B[2p + 1][j]) for
// each column j: [strip][pair][NR][2], zeros past n and past k.
RETINANET_BF16_TARGET void pack_b_strip(const float* b, int64_t ldb, int64_t k, int64_t n, int64_t s, int64_t pairs,
                                        uint16_t* dst) {
  const int64_t j0 = s * NR;
  const int64_t w = std::min<int64_t>(NR, n - j0);
  // Lanes 0-15 of a conversion of two rows hold the even row, 16-31 the odd one: interleave.
  alignas(64) uint16_t order[32];
  for (int i = 0; i < 32; ++i) order[i] = static_cast<uint16_t>(i % 2 == 0 ? i / 2 : 16 + i / 2);
  const __m512i interleave = _mm512_loadu_si512(order);
  for (int64_t p = 0; p < pairs; ++p) {
    uint16_t* d = dst + p * NR * 2;
    const float* r0 = b + 2 * p * ldb + j0;
    const float* r1 = r0 + ldb;
    const bool odd_ok = 2 * p + 1 < k;
    if (w == NR && odd_ok) {
      for (int h = 0; h < 2; ++h) {
        const __m512bh both = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(r1 + 16 * h), _mm512_loadu_ps(r0 + 16 * h));
        // Columns 16h .. 16h + 15 of this half, each as (even row, odd row).
        _mm512_storeu_si512(d + 32 * h, _mm512_permutexvar_epi16(interleave, reinterpret_cast<const __m512i&>(both)));
      }
      continue;
    }
    for (int64_t j = 0; j < NR; ++j) {
      d[2 * j] = j < w ? to_bfloat16(r0[j]) : 0;
      d[2 * j + 1] = j < w && odd_ok ? to_bfloat16(r1[j]) : 0;
    }
  }
}

// acc = A panel (MR rows of kp pairs, row stride `stride` uint16) x B strip (kp pairs x NR).
RETINANET_BF16_TARGET RETINANET_INLINE void micro_bf16(int64_t kp, const uint16_t* ap, int64_t stride,
                                                       const uint16_t* bp, Tile<16>::vec (&out)[MR][2]) {
  __m512 acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kp; ++p) {
    const __m512i b0 = _mm512_loadu_si512(bp + p * NR * 2);
    const __m512i b1 = _mm512_loadu_si512(bp + p * NR * 2 + 32);
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, ap + r * stride + 2 * p, sizeof pair);
      const __m512i a = _mm512_set1_epi32(pair);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], reinterpret_cast<const __m512bh&>(a), reinterpret_cast<const __m512bh&>(b0));
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], reinterpret_cast<const __m512bh&>(a), reinterpret_cast<const __m512bh&>(b1));
    }
  }
  for (int r = 0; r < MR; ++r) {
    std::memcpy(&out[r][0], &acc[r][0], sizeof acc[r][0]);
    std::memcpy(&out[r][1], &acc[r][1], sizeof acc[r][1]);
  }
}

struct Bf16Block {
  int64_t i0, i1, k, n, pairs;
  PackRowsFn pack_rows;
  const void* ctx;
  const uint16_t* bpack;
  float* c;
  int64_t ldc;
  const Epilogue* epilogue;
};

// C rows [i0, i1), every column: per depth block, the A block is gathered (float32), rounded
// into bfloat16 panels and swept over every B strip; the last block stores with the epilogue.
RETINANET_BF16_TARGET void block_bf16(const Bf16Block& a) {
  const int64_t mc = a.i1 - a.i0;
  const int64_t panels = (mc + MR - 1) / MR;
  const int64_t strips = (a.n + NR - 1) / NR;
  thread_local std::vector<float> rows_f32;
  thread_local std::vector<uint16_t> apack;
  rows_f32.resize(static_cast<size_t>(MR * std::min(KC, a.k)));
  apack.resize(static_cast<size_t>(panels * MR * std::min(KC, a.k + 1)));
  const Epilogue none;
  for (int64_t pc = 0; pc < a.k; pc += KC) {
    const int64_t kc = std::min(KC, a.k - pc);
    const int64_t stride = (kc + 1) / 2 * 2;  // even: whole pairs, a zero after an odd depth
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t r0 = a.i0 + p * MR;
      const int64_t rows = std::min<int64_t>(MR, a.i1 - r0);
      uint16_t* dst = apack.data() + p * MR * stride;
      a.pack_rows(a.ctx, r0, rows, pc, kc, rows_f32.data());
      for (int64_t r = 0; r < MR; ++r) {
        uint16_t* d = dst + r * stride;
        if (r < rows) {
          round_row(rows_f32.data() + r * kc, kc, d);
          if (stride > kc) d[kc] = 0;
        } else {
          std::fill(d, d + stride, uint16_t{0});
        }
      }
    }
    const bool last = pc + kc == a.k;
    const Epilogue& e = last && a.epilogue ? *a.epilogue : none;
    for (int64_t s = 0; s < strips; ++s) {
      const int64_t j0 = s * NR;
      const int64_t cols = std::min<int64_t>(NR, a.n - j0);
      const uint16_t* bp = a.bpack + (s * a.pairs + pc / 2) * NR * 2;
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t r0 = a.i0 + p * MR;
        const int64_t rows = std::min<int64_t>(MR, a.i1 - r0);
        Tile<16>::vec acc[MR][2];
        micro_bf16(stride / 2, apack.data() + p * MR * stride, stride, bp, acc);
        finish_tile<16, 2>(acc, a.c + r0 * a.ldc + j0, a.ldc, rows, cols, pc > 0, e, j0, r0 * a.ldc + j0);
      }
    }
  }
}

}  // namespace

bool bf16_gemm_available() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return cpu_isa() == CpuIsa::kAvx512 && __builtin_cpu_supports("avx512bf16");
  }();
  return ok;
}

void gemm_bf16_rows(int64_t m, int64_t n, int64_t k, PackRowsFn pack_rows, const void* ctx, const float* b,
                    int64_t ldb, float* c, int64_t ldc, const Epilogue& epilogue) {
  if (!bf16_gemm_available()) throw std::logic_error("gemm_bf16_rows: this CPU has no AVX512-BF16");
  if (m == 0 || n == 0) return;
  if (k == 0) {  // no products: the float32 GEMM's zeros and epilogue
    sgemm_rows(m, n, k, pack_rows, ctx, b, ldb, false, c, ldc, false, epilogue);
    return;
  }
  const int64_t pairs = (k + 1) / 2;
  const int64_t strips = (n + NR - 1) / NR;
  const size_t halves = static_cast<size_t>(strips * pairs * NR * 2);
  uint16_t* const bpack = reinterpret_cast<uint16_t*>(scratch_floats(ScratchSlot::kPackedB, (halves + 1) / 2));
  parallel_for(strips, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) pack_b_strip(b, ldb, k, n, s, pairs, bpack + s * pairs * NR * 2);
  });
  const int64_t mc = rows_per_task(m, MR, MC_MAX);
  const Epilogue* e = epilogue.active() ? &epilogue : nullptr;
  parallel_for(m, mc, [&](int64_t i0, int64_t i1) {
    block_bf16({i0, i1, k, n, pairs, pack_rows, ctx, bpack, c, ldc, e});
  });
}

#else  // no x86-64 AVX-512 build: never available

bool bf16_gemm_available() { return false; }

void gemm_bf16_rows(int64_t, int64_t, int64_t, PackRowsFn, const void*, const float*, int64_t, float*, int64_t,
                    const Epilogue&) {
  throw std::logic_error("gemm_bf16_rows: this build has no AVX512-BF16 kernel");
}

#endif

}  // namespace retinanet
