// Single-precision matrix product for the convolution and matmul kernels:
// C[m, n] (+)= op(A)[m, k] * op(B)[k, n], row-major with leading dimensions, op = optional
// transpose. Packed, cache-blocked, with a register-tiled micro-kernel compiled for AVX-512,
// AVX2+FMA and a baseline, chosen at run time; multithreaded on the addon's pool.
#pragma once
#include <cstdint>

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

// Fills the k-major A panels of rows [i0, i0 + rows) and depth [k0, k0 + depth): panel q (rows
// i0 + q·mr ..) at dst + q·mr·depth, its row r of depth kk at [kk * mr + r], zeros past `rows`.
// All of a task's panels in one call, so that the maker can read its source in order (a
// transposed im2col matrix: its rows are filter taps, its depth the pixels; one pixel's channels
// feed every panel). For A whose natural order runs along m.
using PackPanelFn = void (*)(const void* ctx, int64_t i0, int64_t rows, int64_t k0, int64_t depth, int64_t mr,
                             float* dst);

// C[m, n] (+)= A * B where A's panels come from pack_panel.
void sgemm_panels(int64_t m, int64_t n, int64_t k, PackPanelFn pack_panel, const void* ctx, const float* b,
                  int64_t ldb, bool trans_b, float* c, int64_t ldc, bool accumulate);

}  // namespace retinanet
