// Single-precision matrix product for the convolution and matmul kernels:
// C[m, n] (+)= op(A)[m, k] * op(B)[k, n], row-major with leading dimensions, op = optional
// transpose. Packed, cache-blocked, with a register-tiled micro-kernel compiled for AVX-512,
// AVX2+FMA and a baseline, chosen at run time; multithreaded on the addon's pool.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace retinanet {

enum class Activation : int { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3 };

// Applied to each final value of C as it is stored, in order: + bias[column],
// + residual[row * ldc + column], activation — a ResNet block's relu(conv + bias + identity) —
// fused into the GEMM (no second pass over C).
struct Epilogue {
  const float* bias = nullptr;      // [n]
  Activation activation = Activation::kLinear;
  float leaky_alpha = 0.2f;
  const float* residual = nullptr;  // laid out like C
  bool active() const { return bias != nullptr || activation != Activation::kLinear || residual != nullptr; }
};

// The most floats the GEMM packs of B at once (8 MB, inside L3); more columns go in blocks. A
// caller choosing its depth chunks can keep B [k, n] within it so that B is packed once.
constexpr int64_t kGemmPackedBFloats = int64_t{1} << 21;

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  bool trans_a = false;  // A stored [k, m]
  const float* b = nullptr;
  int64_t ldb = 0;
  bool trans_b = false;  // B stored [n, k]
  float* c = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;  // C += A * B instead of C = A * B
  Epilogue epilogue;        // on the final values (after accumulation)
};

// Runs on the pool (parallel over blocks of C); from inside a pool task it runs inline.
void sgemm(const GemmArgs& g);

// B as the micro-kernels read it, for a B [k, n] whose maker can write it in this layout directly
// (Winograd's transformed filters): no packing pass per product. Depth blocks of `block` rows,
// each cut into strips of nr columns (16 or 32), each strip row-major; every column past n up to
// floats() / k is read and must hold zeros. Row r, columns [j, j + 16) for a multiple j of 16 are
// 16 consecutive floats at offset(r, j).
struct PackedBLayout {
  int64_t n, k, nr, block;
  int64_t strips() const { return (n + nr - 1) / nr; }
  int64_t floats() const { return k * strips() * nr; }
  int64_t offset(int64_t r, int64_t j) const {
    const int64_t pc = r / block * block, kc = k - pc < block ? k - pc : block;
    return pc * strips() * nr + (j / nr) * kc * nr + (r - pc) * nr + j % nr;
  }
};
PackedBLayout packed_b_layout(int64_t n, int64_t k);

// sgemm with B given packed (g.b, g.ldb, g.trans_b unused); nullptr: sgemm itself.
void sgemm_packed_b(const GemmArgs& g, const float* packed);

// Packs g's B (g.b, g.ldb, g.trans_b, g.k x g.n) into packed_b_layout(g.n, g.k).floats() floats at
// dst: for a B that several products share (packed once, not once per product).
void pack_b(const GemmArgs& g, float* dst);

// Fills the A panel for rows [i0, i0 + rows) and depth [k0, k0 + depth): dst[r * depth + kk].
// Lets convolutions gather im2col rows straight into the packing buffer (implicit GEMM).
using PackRowsFn = void (*)(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, float* dst);

// C[m, n] (+)= A * B where A's rows come from pack_rows (row-major by construction).
void sgemm_rows(int64_t m, int64_t n, int64_t k, PackRowsFn pack_rows, const void* ctx, const float* b,
                int64_t ldb, bool trans_b, float* c, int64_t ldc, bool accumulate, const Epilogue& epilogue = {});

// A read in place, panel by panel: each panel's MR rows are MR consecutive floats of rows that
// its maker names per depth index (a transposed im2col matrix: a panel is MR channels of one
// filter tap, its depth the output pixels, each pixel's input row or a row of zeros) — no packing
// pass. For one task's rows [i0, i0 + rows) and depth block [k0, k0 + depth), the maker fills
// `rows` with tables of `depth` row pointers and, per panel q (rows i0 + q·mr ..), where its table
// starts (table[q], an index into rows) and its values' offset into each named row (offset[q]).
// A panel whose rows no single row holds (a tap's last channels and the next tap's first, a last
// panel of fewer than mr rows) the maker packs into `packed` (k-major: depth kk's mr values
// together, zeros past the valid rows) and names those.
struct GatheredPanels {
  static constexpr int64_t kMaxPanels = 64;  // a task's rows (at most 384) over the smallest MR (6)
  std::vector<const float*> rows;
  std::vector<float> packed;
  int64_t table[kMaxPanels];
  int64_t offset[kMaxPanels];
  // Names panel q as the k-major panel at dst (depth kk's mr values at dst + kk·mr), its table
  // at rows[at, at + depth).
  void name_packed(int64_t q, int64_t at, const float* dst, int64_t depth, int64_t mr) {
    for (int64_t d = 0; d < depth; ++d) rows[static_cast<size_t>(at + d)] = dst + d * mr;
    table[q] = at;
    offset[q] = 0;
  }
};
using GatherPanelFn = void (*)(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, int64_t mr,
                               GatheredPanels* out);

// The rows per panel (MR) of the tile that products with n columns use.
int64_t gemm_panel_rows(int64_t n);

// C[m, n] (+)= A * B where A's panels are read in place as `gather` names them.
void sgemm_gathered(int64_t m, int64_t n, int64_t k, GatherPanelFn gather, const void* ctx, const float* b,
                    int64_t ldb, float* c, int64_t ldc, bool accumulate);

}  // namespace retinanet
