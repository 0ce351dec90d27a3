#include "gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm_tile.h"

#include "../runtime/cpu_isa.h"
#include "../runtime/dispatch.h"
#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"

namespace retinanet {
namespace {

using namespace gemm_detail;

// Cache blocking: an A block (up to mc_max() rows x KC) stays in L2 while a task sweeps the B
// strips past it; B (K x NC) is packed once per NC block and shared by every task (L3).
constexpr int64_t KC = 256;

// The L2 one task may count on: the core's, divided among the pool's threads that run on its SMT
// siblings (two hyperthreads of one core share its L2: a 2-vCPU VM is often one core). Not
// measured on such a machine yet: the VMs lent here have had one vCPU per core.
int64_t l2_per_thread() {
  const int sharing = std::max(1, std::min(l2_sharing_cpus(), num_threads()));
  return l2_cache_bytes() / sharing;
}

// Rows per task at most: the A block in half of the thread's L2, between 144 and 384 rows (a
// multiple of every tile's MR). Fewer, larger tasks stream B fewer times: with 1 MB of L2 (384
// rows against the 144 this was) ResNet-50's products ran 2-17 % faster on 2 threads (Zen 5;
// 1444 x 1024 x 256 the most), the same on one. Machines with 256 KB of L2 keep 144; 1 MB shared
// by two SMT siblings gives 240.
int64_t mc_max() {
  const int64_t fit = l2_per_thread() / 2 / (KC * static_cast<int64_t>(sizeof(float)));
  return std::min<int64_t>(384, std::max<int64_t>(144, fit / 48 * 48));
}

struct PlainA {
  const float* a;
  int64_t lda;
};

// C (+)= acc for the valid rows/cols of a tile, with the epilogue (when e is set) in the last
// depth block.
template <int W, int CV>
RETINANET_INLINE void store_tile(const typename Tile<W>::vec (&acc)[Tile<W, CV>::MR][CV], float* c, int64_t ldc,
                                 int64_t rows, int64_t cols, bool accumulate, const Epilogue* e, int64_t r0,
                                 int64_t j0) {
  constexpr int MR = Tile<W, CV>::MR;
  constexpr int NR = Tile<W, CV>::NR;
  if (e != nullptr) {
    finish_tile<W, CV>(acc, c, ldc, rows, cols, accumulate, *e, j0, r0 * ldc + j0);
    return;
  }
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      for (int h = 0; h < CV; ++h) {
        if (accumulate) {
          store<W>(cr + h * W, load<W>(cr + h * W) + acc[r][h]);
        } else {
          store<W>(cr + h * W, acc[r][h]);
        }
      }
    }
    return;
  }
  alignas(64) float tmp[MR * NR];
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < CV; ++h) store<W>(tmp + r * NR + h * W, acc[r][h]);
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.0f) + tmp[r * NR + j];
  }
}

// Where a micro-kernel reads its A panel: rows of A (as im2col produces them; a plain row-major
// A read in place, its own rows), or a k-major panel read in place (sgemm_gathered).
enum class PanelLayout { kRows, kGathered };

// acc = A panel (MR x kc) * B strip (kc x NR); then C (+)= acc for the valid rows/cols.
// kRows: the panel's rows are read `a_stride` floats apart from ap — kc when packed, A's own row
// stride when read in place (rows past `rows` then repeat the last row: computed, never stored);
// each of the MR broadcasts reads its own sequential stream. kGathered: depth kk's MR values at
// src[kk] + a_stride.
template <int W, int CV, PanelLayout L>
RETINANET_INLINE void micro_kernel(int64_t kc, const float* ap, const float* const* src, int64_t a_stride,
                                   const float* bp, float* c, int64_t ldc, int64_t rows, int64_t cols, bool accumulate,
                                   const Epilogue* e, int64_t r0, int64_t j0) {
  using vec = typename Tile<W>::vec;
  constexpr int MR = Tile<W, CV>::MR;
  constexpr int NR = Tile<W, CV>::NR;
  vec acc[MR][CV];
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < CV; ++h) acc[r][h] = vec{};
  }
  if constexpr (L == PanelLayout::kRows) {
    const float* a[MR];
    for (int r = 0; r < MR; ++r) a[r] = ap + std::min<int64_t>(r, rows - 1) * a_stride;
    for (int64_t kk = 0; kk < kc; ++kk) {
      vec bv[CV];
      for (int h = 0; h < CV; ++h) bv[h] = load<W>(bp + kk * NR + h * W);
      for (int r = 0; r < MR; ++r) {
        for (int h = 0; h < CV; ++h) acc[r][h] += a[r][kk] * bv[h];
      }
    }
  } else {
    for (int64_t kk = 0; kk < kc; ++kk) {
      vec bv[CV];
      for (int h = 0; h < CV; ++h) bv[h] = load<W>(bp + kk * NR + h * W);
      const float* a = src[kk] + a_stride;
      for (int r = 0; r < MR; ++r) {
        for (int h = 0; h < CV; ++h) acc[r][h] += a[r] * bv[h];
      }
    }
  }
  store_tile<W, CV>(acc, c, ldc, rows, cols, accumulate, e, r0, j0);
}

// Transposed A is stored [k, m]: a panel's rows at depth kk are mr consecutive floats of A's row
// kk, read there; a last panel of fewer rows is packed (k-major, zeros past its rows).
void gather_plain_transposed(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, int64_t mr,
                             GatheredPanels* out) {
  const PlainA& p = *static_cast<const PlainA*>(ctx);
  const int64_t full = rows / mr, tail = rows - full * mr;
  out->rows.resize(static_cast<size_t>((tail > 0 ? 2 : 1) * depth));
  for (int64_t kk = 0; kk < depth; ++kk) out->rows[kk] = p.a + (k0 + kk) * p.lda;
  for (int64_t q = 0; q < full; ++q) {
    out->table[q] = 0;
    out->offset[q] = i0 + q * mr;
  }
  if (tail == 0) return;
  out->packed.resize(static_cast<size_t>(mr * depth));
  for (int64_t kk = 0; kk < depth; ++kk) {
    float* d = out->packed.data() + kk * mr;
    const float* src = p.a + (k0 + kk) * p.lda + i0 + full * mr;
    for (int64_t r = 0; r < mr; ++r) d[r] = r < tail ? src[r] : 0.0f;
  }
  out->name_packed(full, depth, out->packed.data(), depth, mr);
}

// One task's product (block_impl).
struct BlockArgs {
  int64_t i0, i1, k, jc, nc;
  PackRowsFn pack_rows;   // rows of A packed, or
  GatherPanelFn gather;   // k-major panels read in place (block_impl<.., true>)
  const void* ctx;
  const float* a_direct;  // row-major A read in place (no packing), rows a_lda apart; or nullptr
  int64_t a_lda;
  const float* bpack;  // [k blocks][strips][kc][NR]
  float* c;
  int64_t ldc;
  bool accumulate;
  const Epilogue* epilogue;  // nullptr: none
};

// C's tile (panel p, strip s) of one depth block [pc, pc + kc): the micro-kernel on the panel's
// layout; `prefetch`: first the next panel's residual tile, for its epilogue.
template <int W, int CV, bool Gathered>
RETINANET_INLINE void block_tile(const BlockArgs& a, const float* apack, const GatheredPanels* g, int64_t pc,
                                 int64_t kc, const float* bblock, bool acc, const Epilogue* e, int64_t p, int64_t s,
                                 bool prefetch) {
  constexpr int MR = Tile<W, CV>::MR;
  constexpr int NR = Tile<W, CV>::NR;
  const int64_t j0 = a.jc + s * NR;
  const int64_t cols = std::min<int64_t>(NR, a.jc + a.nc - j0);
  const float* bp = bblock + s * kc * NR;
  const int64_t r0 = a.i0 + p * MR;
  float* cp = a.c + r0 * a.ldc + j0;
  const int64_t rows = std::min<int64_t>(MR, a.i1 - r0);
  if (prefetch) {
    for (int64_t r = r0 + MR; r < std::min<int64_t>(r0 + 2 * MR, a.i1); ++r) {
      for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(e->residual + r * a.ldc + j0 + j, 0, 3);
    }
  }
  if constexpr (Gathered) {
    micro_kernel<W, CV, PanelLayout::kGathered>(kc, nullptr, g->rows.data() + g->table[p], g->offset[p], bp, cp, a.ldc,
                                                rows, cols, acc, e, r0, j0);
  } else if (a.a_direct != nullptr) {
    micro_kernel<W, CV, PanelLayout::kRows>(kc, a.a_direct + r0 * a.a_lda + pc, nullptr, a.a_lda, bp, cp, a.ldc, rows,
                                            cols, acc, e, r0, j0);
  } else {
    micro_kernel<W, CV, PanelLayout::kRows>(kc, apack + p * MR * kc, nullptr, kc, bp, cp, a.ldc, rows, cols, acc, e,
                                            r0, j0);
  }
}

// One task: C rows [i0, i1) x columns [jc, jc + nc), the whole depth k. The C block stays in L2
// across the depth blocks; each depth block packs its A block (or, Gathered, has the maker name
// its panels' rows) and sweeps the B strips past it.
template <int W, int CV, bool Gathered>
RETINANET_INLINE void block_impl(const BlockArgs& a) {
  constexpr int MR = Tile<W, CV>::MR;
  constexpr int NR = Tile<W, CV>::NR;
  const int64_t mc = a.i1 - a.i0;
  const int64_t panels = (mc + MR - 1) / MR;
  const int64_t strips = (a.nc + NR - 1) / NR;
  thread_local std::vector<float> apack;
  GatheredPanels* g = nullptr;
  if constexpr (Gathered) {
    thread_local GatheredPanels panel_rows;
    g = &panel_rows;
  } else if (a.a_direct == nullptr) {
    apack.resize(static_cast<size_t>(panels * MR * std::min(KC, a.k)));
  }
  for (int64_t pc = 0; pc < a.k; pc += KC) {
    const int64_t kc = std::min(KC, a.k - pc);
    const float* bblock = a.bpack + pc * strips * NR;
    if constexpr (Gathered) {
      a.gather(a.ctx, a.i0, mc, pc, kc, MR, g);
    } else {
      for (int64_t p = 0; p < panels && a.a_direct == nullptr; ++p) {
        const int64_t r0 = a.i0 + p * MR;
        const int64_t rows = std::min<int64_t>(MR, a.i1 - r0);
        float* dst = apack.data() + p * MR * kc;
        a.pack_rows(a.ctx, r0, rows, pc, kc, dst);
        if (rows < MR) std::fill(dst + rows * kc, dst + MR * kc, 0.0f);
      }
    }
    const bool acc = a.accumulate || pc > 0;
    const Epilogue* e = pc + kc == a.k ? a.epilogue : nullptr;
    const float* residual = e != nullptr ? e->residual : nullptr;
    // A residual to add in one depth block whose packed B fits a quarter of L2: panel by panel,
    // each across all the strips, so that the residual (and C) are read row after row rather than
    // a strip's width of every row at a time, the next panel's residual prefetched (cold operands,
    // 2 threads, Zen 5, 3 alternated runs: ResNet's 64->256 at 150x150 with its identity
    // 3.9-5.5 -> 3.1-3.8 ms, 128->512 at 75x75 3.0-3.3 -> 2.5-2.6; the prefetch alone, in the
    // strip order, did not help the wider products).
    if (residual != nullptr && kc == a.k && kc * strips * NR * static_cast<int64_t>(sizeof(float)) <= l2_per_thread() / 4) {
      for (int64_t p = 0; p < panels; ++p) {
        for (int64_t s = 0; s < strips; ++s) block_tile<W, CV, Gathered>(a, apack.data(), g, pc, kc, bblock, acc, e, p, s, true);
      }
      continue;
    }
    for (int64_t s = 0; s < strips; ++s) {
      for (int64_t p = 0; p < panels; ++p) block_tile<W, CV, Gathered>(a, apack.data(), g, pc, kc, bblock, acc, e, p, s, false);
    }
  }
}

// The micro-kernel's ISA is chosen once: vector width W, its two tiles (wide and narrow), and
// the block functions compiled for that ISA (the driver itself is ISA-neutral).
struct Tiling {
  int mr, nr;
  void (*block)(const BlockArgs&);
  void (*gathered)(const BlockArgs&);
};
struct Isa {
  Tiling wide, narrow;
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RETINANET_NO_DISPATCH)
#define RETINANET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
RETINANET_AVX512 void block_avx512(const BlockArgs& a) { block_impl<16, 2, false>(a); }
RETINANET_AVX512 void block_avx512_narrow(const BlockArgs& a) { block_impl<16, 1, false>(a); }
RETINANET_AVX512 void gathered_avx512(const BlockArgs& a) { block_impl<16, 2, true>(a); }
RETINANET_AVX512 void gathered_avx512_narrow(const BlockArgs& a) { block_impl<16, 1, true>(a); }
__attribute__((target("avx2,fma"))) void block_avx2(const BlockArgs& a) { block_impl<8, 2, false>(a); }
__attribute__((target("avx2,fma"))) void block_avx2_narrow(const BlockArgs& a) { block_impl<8, 1, false>(a); }
__attribute__((target("avx2,fma"))) void gathered_avx2(const BlockArgs& a) { block_impl<8, 2, true>(a); }
__attribute__((target("avx2,fma"))) void gathered_avx2_narrow(const BlockArgs& a) { block_impl<8, 1, true>(a); }
#define RETINANET_GEMM_DISPATCH 1
#endif
// The portable path (W = 4: SSE on x86-64, and NEON on aarch64, where it is the only one and
// cpuIsa() says 'baseline'). On aarch64 GCC keeps the tile's accumulators in 12 q registers and
// emits 12 `fmla vN.4s, vM.4s, vK.s[0]` (FMA by element) per k step, both tiles and layouts:
// checked with aarch64-linux-gnu-objdump -d on the addon's -O3 object (GCC 12); it needs this
// file's -ffp-contract=fast (native/fast-math.txt) and -O2 or more (the -O1 core test build
// keeps fmul + fadd).
void block_base(const BlockArgs& a) { block_impl<4, 2, false>(a); }
void block_base_narrow(const BlockArgs& a) { block_impl<4, 1, false>(a); }
void gathered_base(const BlockArgs& a) { block_impl<4, 2, true>(a); }
void gathered_base_narrow(const BlockArgs& a) { block_impl<4, 1, true>(a); }

using BlockFn = void (*)(const BlockArgs&);
template <int W>
Isa isa_of(BlockFn wide, BlockFn narrow, BlockFn gathered_wide, BlockFn gathered_narrow) {
  return {{Tile<W, 2>::MR, Tile<W, 2>::NR, wide, gathered_wide}, {Tile<W, 1>::MR, Tile<W, 1>::NR, narrow, gathered_narrow}};
}

Isa pick_isa() {
#ifdef RETINANET_GEMM_DISPATCH
  if (cpu_isa() == CpuIsa::kAvx512) return isa_of<16>(block_avx512, block_avx512_narrow, gathered_avx512, gathered_avx512_narrow);
  if (cpu_isa() == CpuIsa::kAvx2) return isa_of<8>(block_avx2, block_avx2_narrow, gathered_avx2, gathered_avx2_narrow);
#endif
  return isa_of<4>(block_base, block_base_narrow, gathered_base, gathered_base_narrow);
}

// The narrow tile where it pads n to at most 3/4 of the wide tile's columns (n = 8 or 16 with
// AVX-512: 16 instead of 32; 36 or 48: 48 instead of 64), else the wide one even where it pads a
// little more: the narrow tile broadcasts one A value per FMA where the wide one does per two, and
// ran slower per column (a head's class convolution, n = 720 = 736 - 16: 170 against 213
// GFLOP/s on the Zen 5 VM, 5625 x 2304 x 720). Each C element's k sum runs in the same order
// either way, so the results are the same bits.
const Tiling& tiling_for(const Isa& isa, int64_t n) {
  const auto padded = [n](int64_t nr) { return (n + nr - 1) / nr * nr; };
  return 4 * padded(isa.narrow.nr) <= 3 * padded(isa.wide.nr) ? isa.narrow : isa.wide;
}

// The epilogue alone (a product of depth 0): C is all zeros or what it held.
void apply_epilogue_rows(float* c, int64_t m, int64_t n, int64_t ldc, const Epilogue& e) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float v = c[i * ldc + j] + (e.bias ? e.bias[j] : 0.0f);
      if (e.residual) v += e.residual[i * ldc + j];
      c[i * ldc + j] = activate(v, e);
    }
  }
}

const Isa& isas() {
  static const Isa i = pick_isa();
  return i;
}

// Packs B[0 .. k, jc .. jc + nc] (stored [k, n], or [n, k] when trans_b) as the micro-kernels read
// it: per k block, NR-wide strips of kc rows, zero-padded; on the pool.
void pack_b_strips(const float* b, int64_t ldb, bool trans_b, int64_t k, int64_t jc, int64_t nc, int64_t NR,
                   float* bpack) {
  const int64_t strips = (nc + NR - 1) / NR;
  const int64_t kblocks = (k + KC - 1) / KC;
  if (!trans_b) {
    // Row by row: each of B's rows is read once, start to end, into its place in every strip (strip
    // by strip, 128 bytes of each row were read at B's row stride; in one process alternating the
    // two, products whose packing dominates ran 11-16 % faster: 8 x 2048 x 2048 2.43 -> 2.04 ms,
    // 8 x 4608 x 512 1.30 -> 1.16; Zen 5, 2 threads).
    parallel_for(k, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t pc = r / KC * KC, kc = std::min(KC, k - pc);
        const float* src = b + r * ldb + jc;
        float* dst = bpack + pc * strips * NR + (r - pc) * NR;
        for (int64_t s = 0; s < strips; ++s) {
          const int64_t w = std::min<int64_t>(NR, nc - s * NR);
          float* d = dst + s * kc * NR;
          std::memcpy(d, src + s * NR, static_cast<size_t>(w) * sizeof(float));
          for (int64_t j = w; j < NR; ++j) d[j] = 0.0f;
        }
      }
    });
    return;
  }
  parallel_for(kblocks * strips, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t pc = (t / strips) * KC;
      const int64_t s = t % strips;
      const int64_t kc = std::min(KC, k - pc);
      float* dst = bpack + pc * strips * NR + s * kc * NR;
      const int64_t j0 = jc + s * NR;
      const int64_t w = std::min<int64_t>(NR, jc + nc - j0);
      for (int64_t kk = 0; kk < kc; ++kk) {  // B stored [n, k]: a gather down B's columns
        float* d = dst + kk * NR;
        for (int64_t j = 0; j < w; ++j) d[j] = b[(j0 + j) * ldb + pc + kk];
        for (int64_t j = w; j < NR; ++j) d[j] = 0.0f;
      }
    }
  });
}

// b_packed: B already in the packed layout for all n columns (one block), else nullptr.
// A comes from pack_rows, from gather, or (a_direct) is read in place.
void gemm_driver(int64_t m, int64_t n, int64_t k, PackRowsFn pack_rows, GatherPanelFn gather, const void* ctx,
                 const float* a_direct, int64_t a_lda, const float* b, int64_t ldb, bool trans_b, float* c,
                 int64_t ldc, bool accumulate, const Epilogue& epilogue, const float* b_packed = nullptr) {
  const Tiling& isa = tiling_for(isas(), n);
  const int64_t NR = isa.nr;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    if (epilogue.active()) apply_epilogue_rows(c, m, n, ldc, epilogue);
    return;
  }
  // Column blocks of B that fit the packing budget, of equal width (a 512-column filter whose
  // budget allows 448 goes as 2 x 256, not 448 + 64: A is gathered once per block either way).
  const int64_t nc_max = b_packed ? n : std::max<int64_t>(NR, kGemmPackedBFloats / k / NR * NR);
  const int64_t nblocks = (n + nc_max - 1) / nc_max;
  const int64_t nc_step = ((n + nblocks - 1) / nblocks + NR - 1) / NR * NR;
  float* const bpack = b_packed ? nullptr : scratch_floats(ScratchSlot::kPackedB, static_cast<size_t>(k * nc_step));
  const int64_t mc = rows_per_task(m, isa.mr, mc_max());
  for (int64_t jc = 0; jc < n; jc += nc_step) {
    const int64_t nc = std::min(nc_step, n - jc);
    if (!b_packed) pack_b_strips(b, ldb, trans_b, k, jc, nc, NR, bpack);
    parallel_for(m, mc, [&](int64_t i0, int64_t i1) {
      (gather ? isa.gathered : isa.block)({i0, i1, k, jc, nc, pack_rows, gather, ctx, a_direct, a_lda,
                                          b_packed ? b_packed : bpack, c, ldc, accumulate,
                                          epilogue.active() ? &epilogue : nullptr});
    });
  }
}

}  // namespace

void sgemm_rows(int64_t m, int64_t n, int64_t k, PackRowsFn pack_rows, const void* ctx, const float* b,
                int64_t ldb, bool trans_b, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue) {
  gemm_driver(m, n, k, pack_rows, nullptr, ctx, nullptr, 0, b, ldb, trans_b, c, ldc, accumulate, epilogue);
}

void sgemm_gathered(int64_t m, int64_t n, int64_t k, GatherPanelFn gather, const void* ctx, const float* b,
                    int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  gemm_driver(m, n, k, nullptr, gather, ctx, nullptr, 0, b, ldb, false, c, ldc, accumulate, Epilogue{});
}

int64_t gemm_panel_rows(int64_t n) { return tiling_for(isas(), n).mr; }

PackedBLayout packed_b_layout(int64_t n, int64_t k) { return {n, k, tiling_for(isas(), n).nr, KC}; }

void sgemm_packed_b(const GemmArgs& g, const float* packed) {
  const PlainA ctx{g.a, g.lda};
  // A is read where it is, row-major or transposed: packing it would only copy its rows (measured
  // on Zen 5, 2 threads: 1x1 convolutions 4-23 % faster, Winograd's products 15 %, a 1024^3
  // matmul 18 %) or, transposed, its panels (a 1x1 filter gradient 256->64 at 2x150x150:
  // 13.4-13.7 -> 7.0-8.5 ms).
  gemm_driver(g.m, g.n, g.k, nullptr, g.trans_a ? gather_plain_transposed : nullptr, &ctx, g.trans_a ? nullptr : g.a,
              g.lda, g.b, g.ldb, g.trans_b, g.c, g.ldc, g.accumulate, g.epilogue, packed);
}

void pack_b(const GemmArgs& g, float* dst) { pack_b_strips(g.b, g.ldb, g.trans_b, g.k, 0, g.n, tiling_for(isas(), g.n).nr, dst); }

void sgemm(const GemmArgs& g) { sgemm_packed_b(g, nullptr); }

}  // namespace retinanet
