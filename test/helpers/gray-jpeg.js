'use strict';
// A minimal baseline JPEG encoder for 8-bit grayscale (one component), which jpeg-js's encoder
// does not write: users' grayscale photos arrive as such files, and the user-style dataset needs
// them. Float DCT, the standard luminance quantization table scaled by quality, and fixed-length
// Huffman codes (every DC category 4 bits, every AC symbol 8 bits): larger than an optimized
// file, but a valid JPEG any decoder reads.

const BASE_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

// ZIGZAG[k] = the row-major index of the k-th coefficient in zigzag order.
const ZIGZAG = (() => {
  const out = [];
  for (let s = 0; s < 15; s++) {
    const cells = [];
    for (let y = 0; y < 8; y++) { const x = s - y; if (x >= 0 && x < 8) cells.push(y * 8 + x); }
    out.push(...(s % 2 === 0 ? cells.reverse() : cells));
  }
  return out;
})();

const COS = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i % 8) + 1) * Math.floor(i / 8) * Math.PI) / 16));

// Symbols and their fixed-length codes, in the order DHT lists them.
const DC_SYMBOLS = Array.from({ length: 12 }, (_, i) => i);
const AC_SYMBOLS = [0x00, 0xf0];
for (let run = 0; run < 16; run++) for (let size = 1; size <= 10; size++) AC_SYMBOLS.push((run << 4) | size);

function codeTable(symbols, length) {
  const codes = new Map();
  symbols.forEach((s, i) => codes.set(s, i));  // canonical: consecutive codes of one length
  const counts = new Array(16).fill(0);
  counts[length - 1] = symbols.length;
  return { codes, length, counts, symbols };
}
const DC = codeTable(DC_SYMBOLS, 4);
const AC = codeTable(AC_SYMBOLS, 8);

class BitWriter {
  constructor() { this.bytes = []; this.acc = 0; this.n = 0; }
  write(value, bits) {
    for (let b = bits - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >> b) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  flushByte() {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);  // byte stuffing
    this.acc = 0; this.n = 0;
  }
  finish() {
    while (this.n !== 0) this.write(1, 1);  // pad with ones
    return this.bytes;
  }
}

function category(v) {
  let a = Math.abs(v), c = 0;
  while (a > 0) { c++; a >>= 1; }
  return c;
}

function writeValue(w, v, size) {
  if (size > 0) w.write(v >= 0 ? v : v + (1 << size) - 1, size);
}

/** Encodes `gray` (Uint8Array, width × height, row-major) as a one-component baseline JPEG. */
function encodeGrayJpeg(gray, width, height, quality = 90) {
  const q = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  const quant = BASE_QUANT.map((v) => Math.min(255, Math.max(1, Math.floor((v * q + 50) / 100))));
  const w = new BitWriter();
  let prevDc = 0;
  const block = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const sy = Math.min(height - 1, by + y), sx = Math.min(width - 1, bx + x);  // edge replication
          block[y * 8 + x] = gray[sy * width + sx] - 128;
        }
      }
      const coef = new Int32Array(64);
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[u * 8 + x] * COS[v * 8 + y];
          const cu = u === 0 ? Math.SQRT1_2 : 1, cv = v === 0 ? Math.SQRT1_2 : 1;
          coef[v * 8 + u] = Math.round((0.25 * cu * cv * s) / quant[v * 8 + u]);
        }
      }
      const diff = coef[0] - prevDc;
      prevDc = coef[0];
      const dcSize = category(diff);
      w.write(DC.codes.get(dcSize), DC.length);
      writeValue(w, diff, dcSize);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const c = coef[ZIGZAG[k]];
        if (c === 0) { run++; continue; }
        while (run > 15) { w.write(AC.codes.get(0xf0), AC.length); run -= 16; }
        const size = category(c);
        w.write(AC.codes.get((run << 4) | size), AC.length);
        writeValue(w, c, size);
        run = 0;
      }
      if (run > 0) w.write(AC.codes.get(0x00), AC.length);
    }
  }
  const data = w.finish();
  const segment = (marker, body) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const dht = (tc, t) => [(tc << 4) | 0, ...t.counts, ...t.symbols];
  const bytes = [
    0xff, 0xd8,
    ...segment(0xdb, [0, ...ZIGZAG.map((i) => quant[i])]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...segment(0xc4, [...dht(0, DC), ...dht(1, AC)]),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
  ];
  const out = Buffer.alloc(bytes.length + data.length + 2);
  out.set(bytes, 0);
  out.set(data, bytes.length);
  out[out.length - 2] = 0xff; out[out.length - 1] = 0xd9;
  return out;
}

module.exports = { encodeGrayJpeg };
