// 16-bit floats widened to float32, for weight files (safetensors F16 / BF16, PyTorch's half and bfloat16).

/** IEEE half precision → number. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

const bf16Bits = new Uint32Array(1);
const bf16Value = new Float32Array(bf16Bits.buffer);

/** bfloat16 (the top half of a float32) → number. */
export function bf16ToF32(h: number): number {
  bf16Bits[0] = h << 16;
  return bf16Value[0];
}
