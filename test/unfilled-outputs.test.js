'use strict';
// The accelerator kernels' outputs are allocated without a zero fill (node::Buffer memory), so
// each kernel must write every element itself. Here the heap is first filled with freed NaN
// blocks of each output's size, so that an element a kernel skipped would show as NaN (or stale
// data) instead of a lucky zero; every output is also checked against a second call's bits.
const test = require('ava');
const v8 = require('v8');
const vm = require('vm');
const { ops } = require('..');
const { prng } = require('../dist/util/prng');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
ops.retainFreedMemory();  // freed blocks stay in the heap (glibc), where the next outputs come from

function rand(n, seed) {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => r() - 0.5);
}

// Frees blocks of `floats` NaNs, so that the next allocations of that size reuse them.
function poison(floats) {
  for (let i = 0; i < 3; i++) new Float32Array(floats).fill(NaN);
  gc();
  gc();
}

function check(t, name, make) {
  const first = make();
  poison(first.length);
  const out = make();
  let nan = 0, differ = 0;
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) nan++;
    else if (Object.is(out[i], first[i]) === false) differ++;
  }
  t.is(nan, 0, `${name}: ${nan} of ${out.length} elements left unwritten (NaN)`);
  t.is(differ, 0, `${name}: ${differ} of ${out.length} elements differ between two calls`);
}

const conv = (h, c, k, f, stride, pad, batch = 1) => {
  const o = Math.floor((h + 2 * pad - f) / stride) + 1;
  return { batch, inHeight: h, inWidth: h, inChannels: c, filterHeight: f, filterWidth: f, outChannels: k,
    strideHeight: stride, strideWidth: stride, padTop: pad, padLeft: pad, outHeight: o, outWidth: o };
};
const CONVS = {
  // 64 channels in and out, 100 tiles of 4x4: Winograd at inference (the gradients: the direct kernels).
  '3x3 stride 1 (Winograd at inference)': conv(40, 64, 64, 3, 1, 1),
  '3x3 stride 1, few channels (direct)': conv(40, 16, 24, 3, 1, 1),
  '3x3 stride 2': conv(21, 8, 16, 3, 2, 1, 2),
  '1x1': conv(17, 32, 48, 1, 1, 0, 2),
  '7x7 stride 2': conv(30, 3, 16, 7, 2, 3),
};

for (const [name, g] of Object.entries(CONVS)) {
  test.serial(`conv2d ${name}: forward, input and filter gradients write every element`, (t) => {
    const xn = g.batch * g.inHeight * g.inWidth * g.inChannels;
    const wn = g.filterHeight * g.filterWidth * g.inChannels * g.outChannels;
    const yn = g.batch * g.outHeight * g.outWidth * g.outChannels;
    const x = rand(xn, 1), w = rand(wn, 2), dy = rand(yn, 3), bias = rand(g.outChannels, 4);
    check(t, 'forward', () => ops.conv2d(x, w, g, { bias, activation: 'relu' }));
    check(t, 'input gradient', () => ops.conv2dBackpropInput(dy, w, g));
    check(t, 'filter gradient', () => ops.conv2dBackpropFilter(x, dy, g));
  });
}

test.serial('batchMatMul, elementwise, max pooling and group norm write every element', (t) => {
  const a = rand(3 * 70 * 50, 5), b = rand(3 * 50 * 60, 6);
  check(t, 'batchMatMul', () => ops.batchMatMul(a, b, { batchA: 3, batchB: 3, m: 70, n: 60, k: 50, transposeA: false, transposeB: false }));
  const p = rand(4 * 33 * 33 * 8, 7), q = rand(33 * 8, 8);
  check(t, 'binaryOp (broadcast)', () => ops.binaryOp('mul', p, [4, 33, 33, 8], q, [33, 1, 8]));
  check(t, 'unaryOp', () => ops.unaryOp('relu', p));
  const pg = { batch: 4, inHeight: 33, inWidth: 33, channels: 8, filterHeight: 3, filterWidth: 3, strideHeight: 2, strideWidth: 2,
    padTop: 1, padLeft: 1, outHeight: 17, outWidth: 17 };
  const pdy = rand(4 * 17 * 17 * 8, 9);
  check(t, 'maxPool', () => ops.maxPool(p, pg));
  check(t, 'maxPoolGrad', () => ops.maxPoolGrad(p, pdy, pg));
  const shape = [4, 33, 33, 8];
  const gamma = rand(8, 10), beta = rand(8, 11);
  const { mean, rstd } = ops.groupNorm(p, shape, 4, gamma, beta);
  check(t, 'groupNorm', () => ops.groupNorm(p, shape, 4, gamma, beta).y);
  check(t, 'groupNormBackward', () => ops.groupNormBackward(p, p, shape, 4, mean, rstd, gamma).dx);
});
