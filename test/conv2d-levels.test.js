'use strict';
// conv2dLevels: one filter on several inputs (a head's convolution on every pyramid level) in one
// kernel, against float64 sums; under a gradient tape, conv2dBiasAct per input; bad arguments.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const ops = require('../dist/accel/ops');
const { inputs, reference, maxRelDiff } = require('./helpers/winograd-cases');

// F(4x4, 3x3)'s float32 error bound (test/winograd.test.js).
const TOL = 2e-5;

// 64 -> 72 channels, 'same' padding. Alone each level has under 24 tiles of 4x4 outputs (16x16:
// 16; 2 x 10x9: 18; 5x5: 4; 3x3 and 1x1: 1), so each would take the direct kernel; together
// (40 tiles) they take the Winograd path.
const LEVELS = [[1, 16, 16], [2, 10, 9], [1, 5, 5], [1, 3, 3], [1, 1, 1]];
const C = 64, K = 72;

function levels(seed) {
  const first = inputs([1, 1, 1, C, K, 1], seed);
  return LEVELS.map(([b, h, w], i) => {
    const l = inputs([b, h, w, C, K, 1], seed + 1 + i);
    // One filter and bias for all; no residual (the reference adds it: zeros).
    return { ...l, w: first.w, bias: first.bias, residual: new Float32Array(l.residual.length) };
  });
}

test('ops.conv2dLevels: each output equals float64 sums; together the levels take the Winograd path', (t) => {
  const ls = levels(3);
  const ys = ops.conv2dLevels(ls.map((l) => l.x), ls[0].w, ls.map((l) => l.g), { bias: ls[0].bias, activation: 'relu' });
  t.is(ys.length, LEVELS.length);
  let sameAsDirect = true;
  ls.forEach((l, i) => {
    const want = reference(l).y;
    t.true(maxRelDiff(ys[i], want) < TOL, `level ${i} [${LEVELS[i]}]: ${maxRelDiff(ys[i], want)}`);
    const alone = ops.conv2d(l.x, l.w, l.g, { bias: l.bias, activation: 'relu' });
    sameAsDirect = sameAsDirect && alone.every((v, j) => v === ys[i][j]);
  });
  t.false(sameAsDirect, 'every level has the bits of its own direct convolution: the shared Winograd path did not run');
});

test('ops.conv2dLevels: below 24 tiles in all, or a shape Winograd does not take, it is each level\'s own convolution', (t) => {
  const ls = levels(5).slice(2); // 6 tiles
  const ys = ops.conv2dLevels(ls.map((l) => l.x), ls[0].w, ls.map((l) => l.g), { bias: ls[0].bias });
  ls.forEach((l, i) => t.deepEqual(ys[i], ops.conv2d(l.x, l.w, l.g, { bias: l.bias })));
  // 1x1 filters: the direct kernel per level.
  const g = (h) => ({ batch: 1, inHeight: h, inWidth: h, inChannels: 4, filterHeight: 1, filterWidth: 1, outChannels: 3,
    strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0, outHeight: h, outWidth: h });
  const xs = [Float32Array.from({ length: 64 }, (_, i) => i / 7), Float32Array.from({ length: 16 }, (_, i) => -i)];
  const w = Float32Array.from({ length: 12 }, (_, i) => i - 5);
  const out = ops.conv2dLevels(xs, w, [g(4), g(2)]);
  t.deepEqual(out, [ops.conv2d(xs[0], w, g(4)), ops.conv2d(xs[1], w, g(2))]);
});

test('ops.conv2dLevels refuses inputs that do not share one filter, and bad arguments', (t) => {
  const ls = levels(7).slice(0, 2);
  const xs = ls.map((l) => l.x), gs = ls.map((l) => l.g), w = ls[0].w;
  t.throws(() => ops.conv2dLevels([], w, []), { instanceOf: RangeError, message: /at least one/ });
  t.throws(() => ops.conv2dLevels(xs, w, gs.slice(0, 1)), { instanceOf: RangeError, message: /as many/ });
  t.throws(() => ops.conv2dLevels(xs, w, [gs[0], { ...gs[1], padTop: 0 }]), { instanceOf: RangeError, message: /geometries\[1\]\.padTop/ });
  t.throws(() => ops.conv2dLevels(xs, w, [gs[0], { ...gs[1], outChannels: 8 }]), { instanceOf: RangeError, message: /outChannels/ });
  t.throws(() => ops.conv2dLevels([xs[0], xs[1].subarray(1)], w, gs), { instanceOf: RangeError, message: /xs\[i\]/ });
  t.throws(() => ops.conv2dLevels([xs[0], Array.from(xs[1])], w, gs), { instanceOf: TypeError, message: /xs\[1\]/ });
  t.throws(() => ops.conv2dLevels(xs, w.subarray(1), gs), { instanceOf: RangeError, message: /filter/ });
  t.throws(() => ops.conv2dLevels(xs, w, gs, { residual: new Float32Array(4) }), { instanceOf: RangeError, message: /residual/ });
  t.throws(() => ops.conv2dLevels(xs, w, gs, { activation: 'gelu' }), { instanceOf: TypeError, message: /activation/ });
});

const PAD = [[0, 0], [1, 1], [1, 1], [0, 0]];

function tensors(seed) {
  const ls = levels(seed);
  return {
    xs: ls.map((l) => tf.tensor4d(l.x, [l.g.batch, l.g.inHeight, l.g.inWidth, C])),
    filter: tf.tensor4d(ls[0].w, [3, 3, C, K]),
    bias: tf.tensor1d(ls[0].bias),
    ls,
  };
}

test('conv2dLevels (tensors): one kernel outside a tape, the float64 values; nothing left behind', (t) => {
  const { xs, filter, bias, ls } = tensors(11);
  const before = tf.memory().numTensors;
  const ys = R.conv2dLevels({ xs, filter, bias, pad: PAD, activation: 'relu' });
  t.is(tf.memory().numTensors, before + ys.length);
  ys.forEach((y, i) => {
    t.deepEqual(y.shape, [ls[i].g.batch, ls[i].g.outHeight, ls[i].g.outWidth, K]);
    t.true(maxRelDiff(y.dataSync(), reference(ls[i]).y) < TOL, `level ${i}`);
  });
  // The kernel ran (one RetinanetConv2DLevels), not a convolution per level.
  const names = [];
  const prof = tf.engine().runKernel.bind(tf.engine());
  tf.engine().runKernel = (name, ...rest) => { names.push(name); return prof(name, ...rest); };
  try {
    tf.dispose(R.conv2dLevels({ xs, filter, bias, pad: PAD, activation: 'relu' }));
  } finally {
    tf.engine().runKernel = prof;
  }
  t.deepEqual(names, [R.CONV2D_LEVELS]);
  tf.dispose([...xs, filter, bias, ...ys]);
});

test('conv2dLevels under a gradient tape is conv2dBiasAct per input: the same values and gradients', (t) => {
  const { xs, filter, bias } = tensors(13);
  const loss = (f) => (w, b, ...x) => tf.addN(f(x, w, b).map((y, i) => tf.sum(tf.mul(y, i + 1))));
  const levelsLoss = loss((x, w, b) => R.conv2dLevels({ xs: x, filter: w, bias: b, pad: PAD, activation: 'relu' }));
  const eachLoss = loss((x, w, b) => x.map((xi) => R.conv2dBiasAct({ x: xi, filter: w, bias: b, pad: PAD, activation: 'relu' })));
  const a = tf.grads(levelsLoss)([filter, bias, ...xs]);
  const b = tf.grads(eachLoss)([filter, bias, ...xs]);
  a.forEach((g, i) => t.deepEqual(g.dataSync(), b[i].dataSync(), `gradient ${i}`));
  tf.dispose([...a, ...b, ...xs, filter, bias]);
});

test('conv2dLevels refuses bad tensors with clear errors', (t) => {
  const { xs, filter, bias } = tensors(17);
  t.throws(() => R.conv2dLevels({ xs: [], filter, pad: PAD }), { instanceOf: TypeError, message: /xs: expected a non-empty array/ });
  t.throws(() => R.conv2dLevels({ xs: [xs[0], 'x'], filter, pad: PAD }), { instanceOf: TypeError, message: /xs\[1\]: expected a tf.Tensor/ });
  const other = tf.zeros([1, 4, 4, 8]);
  t.throws(() => R.conv2dLevels({ xs: [xs[0], other], filter, pad: PAD }), { instanceOf: RangeError, message: /filter: expected 8 input channels \(xs\[1\]'s\)/ });
  const badBias = tf.zeros([K + 1]);
  t.throws(() => R.conv2dLevels({ xs, filter, bias: badBias, pad: PAD }), { instanceOf: RangeError, message: /bias: expected shape \[72\]/ });
  t.throws(() => R.conv2dLevels({ xs, filter, pad: PAD, activation: 'tanh' }), { instanceOf: RangeError, message: /activation/ });
  const gone = tf.zeros([1, 4, 4, C]);
  gone.dispose();
  t.throws(() => R.conv2dLevels({ xs: [xs[0], gone], filter, pad: PAD }), { instanceOf: TypeError, message: /disposed/ });
  tf.dispose([...xs, filter, bias, other, badBias]);
});
