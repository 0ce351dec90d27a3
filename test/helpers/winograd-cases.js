'use strict';
// The cases of test/winograd.test.js, shared with the fresh process that runs them on the direct
// kernel: 3x3 stride-1 convolutions with 64+ channels in and 8+ out (a head's box output is 36
// wide, a one-class head's class output 9), their inputs, a float64 reference.
const ops = require('../../dist/ops');

const SHAPES = [[1, 7, 9, 64, 72, 1], [2, 8, 6, 64, 64, 0], [1, 5, 5, 80, 64, 1], [1, 2, 3, 64, 64, 1], [1, 9, 7, 64, 36, 1], [2, 6, 5, 72, 9, 0]];

function rng(seed) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
}

function inputs([batch, H, W, C, K, pad], seed) {
  const r = rng(seed);
  const OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
  const g = { batch, inHeight: H, inWidth: W, inChannels: C, filterHeight: 3, filterWidth: 3, outChannels: K,
    strideHeight: 1, strideWidth: 1, padTop: pad, padLeft: pad, outHeight: OH, outWidth: OW };
  const x = Float32Array.from({ length: batch * H * W * C }, r);
  const w = Float32Array.from({ length: 9 * C * K }, r);
  const dy = Float32Array.from({ length: batch * OH * OW * K }, r);
  const bias = Float32Array.from({ length: K }, r);
  const residual = Float32Array.from({ length: batch * OH * OW * K }, r);
  return { g, x, w, dy, bias, residual };
}

/** Forward (with bias, residual, relu), input gradient and filter gradient as float64 sums. */
function reference({ g, x, w, dy, bias, residual }) {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outChannels: K, padTop: p, outHeight: OH, outWidth: OW } = g;
  const y = new Float64Array(batch * OH * OW * K);
  const dx = new Float64Array(batch * H * W * C);
  const dw = new Float64Array(9 * C * K);
  for (let b = 0; b < batch; b++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    const o = ((b * OH + oy) * OW + ox) * K;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const iy = oy - p + i, ix = ox - p + j;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const xi = ((b * H + iy) * W + ix) * C;
      for (let c = 0; c < C; c++) {
        const wi = ((i * 3 + j) * C + c) * K;
        let acc = 0;
        for (let k = 0; k < K; k++) {
          y[o + k] += x[xi + c] * w[wi + k];
          acc += dy[o + k] * w[wi + k];
          dw[wi + k] += x[xi + c] * dy[o + k];
        }
        dx[xi + c] += acc;
      }
    }
    for (let k = 0; k < K; k++) y[o + k] = Math.max(0, y[o + k] + bias[k] + residual[o + k]);
  }
  return { y, dx, dw };
}

function maxRelDiff(a, b) {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

function run(input) {
  const { g, x, w, dy, bias, residual } = input;
  return {
    y: ops.conv2d(x, w, g, { bias, residual, activation: 'relu' }),
    dx: ops.conv2dBackpropInput(dy, w, g),
    dw: ops.conv2dBackpropFilter(x, dy, g),
  };
}


module.exports = { SHAPES, inputs, reference, maxRelDiff, run };
