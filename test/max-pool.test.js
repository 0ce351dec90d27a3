'use strict';
// The native MaxPool / MaxPoolGrad cpu kernels against tfjs's own, bit for bit: max is exact,
// the gradient goes to the same cell and is summed in the same order.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { ops } = R;
const { prng } = require('../dist/util/prng');

const { countAddonCalls, sameBothWays: same } = require('./helpers/native-vs-tfjs');

// The addon's max-pool calls, to show the comparisons below do run the native kernels.
const { calls } = countAddonCalls(['maxPool', 'maxPoolGrad']);

/** Values with many ties (multiples of 0.5 in [-2, 2]), signed zeros, and optionally NaN / -Infinity. */
function tiedInput(seed, shape, special = false) {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => {
    const k = r.int(0, 60);
    if (special && k === 0) return NaN;
    if (special && k === 1) return -Infinity;
    if (k === 2) return -0;
    return r.int(-4, 5) * 0.5;
  });
  return tf.tensor(v, shape);
}

const SHAPES = [[1, 1, 1, 1], [1, 1, 1, 3], [2, 5, 7, 3], [1, 8, 8, 16], [3, 9, 6, 5], [1, 13, 11, 2], [2, 4, 17, 33]];
const FILTERS = [1, 2, 3, 5, [2, 3]];
const STRIDES = [1, 2, 3, [1, 2]];
const PADS = ['valid', 'same', 0, 1, 2, [[0, 0], [1, 0], [0, 2], [0, 0]]];

for (const shape of SHAPES) {
  test(`forward and gradient equal tfjs's kernels bit for bit: x [${shape}], filters ${JSON.stringify(FILTERS)}, strides ${JSON.stringify(STRIDES)}, every padding`, (t) => {
    const x = tiedInput(shape.reduce((a, b) => a * 31 + b, 7), shape, true);
    let compared = 0, identities = 0;
    const before = { ...calls };
    for (const filter of FILTERS) {
      for (const strides of STRIDES) {
        for (const pad of PADS) {
          const what = `filter ${JSON.stringify(filter)} strides ${JSON.stringify(strides)} pad ${JSON.stringify(pad)}`;
          const fwd = same(t, () => tf.maxPool(x, filter, strides, pad), what);
          if (fwd.error) continue;
          compared++;
          if (JSON.stringify(fwd.shape) === JSON.stringify(shape) && filter === 1) identities++;
          const w = tf.randomNormal(fwd.shape, 0, 1, 'float32', compared);
          same(t, () => tf.grad((v) => tf.maxPool(v, filter, strides, pad).mul(w).sum())(x), `${what} gradient`);
          w.dispose();
        }
      }
    }
    t.true(compared > 40, `${compared} configurations compared`);
    // Every configuration ran natively, but for 1x1 identity pools (left to tfjs's identity).
    t.is(calls.maxPool - before.maxPool, 2 * (compared - identities)); // forward, and again inside tf.grad
    t.is(calls.maxPoolGrad - before.maxPoolGrad, compared);
    x.dispose();
  });
}

test('rounding modes with numeric padding, rank-3 input, and random (tie-free) values', (t) => {
  const x = tiedInput(3, [2, 10, 9, 4]);
  for (const mode of ['floor', 'round', 'ceil']) {
    for (const [filter, strides, pad] of [[3, 2, 1], [2, 3, 0], [3, 2, 0], [5, 3, 2]]) {
      const what = `${mode} filter ${filter} stride ${strides} pad ${pad}`;
      const fwd = same(t, () => tf.maxPool(x, filter, strides, pad, mode), what);
      if (fwd.error) continue;
      same(t, () => tf.grad((v) => tf.maxPool(v, filter, strides, pad, mode).square().sum())(x), `${what} gradient`);
    }
  }
  const x3 = tiedInput(4, [7, 6, 3]);
  same(t, () => tf.maxPool(x3, 3, 2, 'same'), 'rank 3');
  same(t, () => tf.grad((v) => tf.maxPool(v, 3, 2, 'same').sum())(x3), 'rank 3 gradient');
  const xr = tf.randomNormal([4, 32, 32, 24], 0, 1, 'float32', 5);
  same(t, () => tf.maxPool(xr, 3, 2, 1), 'the stem pool on a 4x32x32x24 batch');
  same(t, () => tf.grad((v) => tf.maxPool(v, 3, 2, 1).square().sum())(xr), 'its gradient');
  tf.dispose([x, x3, xr]);
});

test('NaN never wins, an all-NaN or all -Infinity window gives -Infinity and no gradient (as tfjs)', (t) => {
  const x = tf.tensor4d([NaN, NaN, NaN, NaN, 1, NaN, -Infinity, -Infinity, 3], [1, 3, 3, 1]);
  const y = same(t, () => tf.maxPool(x, 2, 1, 'valid'), 'forward');
  t.deepEqual([...new Float32Array(new Uint8Array(y.bytes).buffer)], [1, 1, 1, 3]);
  const z = same(t, () => tf.maxPool(tf.tensor4d([NaN, -Infinity, NaN, -Infinity], [1, 2, 2, 1]), 2, 2, 'valid'), 'all NaN / -Infinity');
  t.deepEqual([...new Float32Array(new Uint8Array(z.bytes).buffer)], [-Infinity]);
  same(t, () => tf.grad((v) => tf.maxPool(v, 2, 1, 'valid').sum())(x), 'gradient');
  x.dispose();
});

test("the stem's tf.maxPool(x, 3, 2, 1) equals the old -Infinity pad + 'valid' pool, values and gradient", (t) => {
  for (const [h, w] of [[1, 1], [2, 3], [7, 8], [16, 16], [33, 31]]) {
    const x = tf.randomNormal([2, h, w, 5], -1, 1, 'float32', h * w);
    const [a, b, ga, gb] = tf.tidy(() => {
      const old = (v) => tf.maxPool(tf.pad(v, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid');
      const now = (v) => tf.maxPool(v, 3, 2, 1);
      const wgt = tf.randomNormal(now(x).shape, 0, 1, 'float32', 1);
      return [now(x), old(x), tf.grad((v) => now(v).mul(wgt).sum())(x), tf.grad((v) => old(v).mul(wgt).sum())(x)];
    });
    t.deepEqual(a.shape, [2, Math.ceil(h / 2), Math.ceil(w / 2), 5], 'torchvision MaxPool2d(3, 2, 1) output size');
    t.deepEqual(a.shape, b.shape);
    t.deepEqual(a.dataSync(), b.dataSync(), `${h}x${w} values`);
    t.deepEqual(ga.dataSync(), gb.dataSync(), `${h}x${w} gradient`);
    tf.dispose([x, a, b, ga, gb]);
  }
});

test('uncovered cases fall through to tfjs: int32 input, a 1x1 identity pool', (t) => {
  const xi = tf.tensor4d([1, 5, 3, 2, 8, 4, 0, 7, 6], [1, 3, 3, 1], 'int32');
  const r = same(t, () => tf.maxPool(xi, 2, 1, 'valid'), 'int32');
  t.deepEqual([...new Int32Array(new Uint8Array(r.bytes).buffer)], [8, 8, 8, 8]);
  const xn = tf.tensor4d([NaN, 1, 2, 3], [1, 2, 2, 1]);
  const id = same(t, () => tf.maxPool(xn, 1, 1, 'valid'), '1x1 identity keeps NaN');
  t.true(Number.isNaN(new Float32Array(new Uint8Array(id.bytes).buffer)[0]));
  tf.dispose([xi, xn]);
});

test('a max-pool net trains to the same losses with and without the native kernels', (t) => {
  const run = (native) => {
    R.useNativeCpuKernels(native);
    const x = tiedInput(20, [4, 12, 12, 3]);
    const target = tf.randomNormal([4, 3, 3, 4], 0, 1, 'float32', 21);
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 0.3, 'float32', 22));
    const opt = tf.train.sgd(0.05);
    const losses = [];
    for (let step = 0; step < 5; step++) {
      const loss = opt.minimize(() => {
        const h = tf.maxPool(tf.conv2d(x, w, 1, 'same'), 3, 2, 1);
        return tf.losses.meanSquaredError(target, tf.maxPool(h, 2, 2, 'valid'));
      }, true);
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    tf.dispose([x, target, w]);
    opt.dispose();
    return losses;
  };
  const native = run(true);
  const own = run(false);
  R.useNativeCpuKernels(true);
  t.true(native[4] < native[0]);
  native.forEach((l, i) => t.true(Math.abs(l - own[i]) <= 1e-5 * Math.abs(own[i]), `step ${i}: ${l} vs ${own[i]}`));
});

test('ops.maxPool / maxPoolGrad check their arguments and never modify their inputs', (t) => {
  const g = {
    batch: 1, inHeight: 3, inWidth: 3, channels: 2, filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1,
    padTop: 0, padLeft: 0, outHeight: 2, outWidth: 2,
  };
  const x = Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 5);
  const dy = Float32Array.from({ length: 8 }, (_, i) => i + 1);
  const copies = [x.slice(), dy.slice()];
  const y = ops.maxPool(x, g);
  const dx = ops.maxPoolGrad(x, dy, g);
  t.deepEqual([x, dy], copies);
  t.is(y.length, 8);
  t.is(dx.length, 18);
  // Every dy lands somewhere: the gradient's total is dy's.
  t.is(dx.reduce((a, b) => a + b, 0), dy.reduce((a, b) => a + b, 0));
  const bad = [
    [() => ops.maxPool([1, 2], g), TypeError, /x: expected a Float32Array/],
    [() => ops.maxPool(x.subarray(1), g), RangeError, /x: expected 18 elements/],
    [() => ops.maxPool(x, null), TypeError, /geometry/],
    [() => ops.maxPool(x, { ...g, strideHeight: 0 }), RangeError, /geometry.strideHeight/],
    [() => ops.maxPool(x, { ...g, filterWidth: 0 }), RangeError, /geometry.filterWidth/],
    [() => ops.maxPool(x, { ...g, padTop: -1 }), RangeError, /geometry.padTop/],
    [() => ops.maxPool(x, { ...g, outWidth: 1.5 }), RangeError, /geometry.outWidth/],
    [() => ops.maxPoolGrad(x, dy.subarray(1), g), RangeError, /dy: expected 8 elements/],
    [() => ops.maxPoolGrad(x, new Float64Array(8), g), TypeError, /dy/],
    [() => ops.maxPool(x, { ...g, batch: 2 ** 20, inHeight: 2 ** 10, inWidth: 2 ** 10 }), RangeError, /x: the result would hold/],
  ];
  for (const [f, type, message] of bad) t.throws(f, { instanceOf: type, message });
});
