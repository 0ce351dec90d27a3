'use strict';
// The native ResizeNearestNeighbor / ResizeNearestNeighborGrad cpu kernels: the forward pass and
// a one-image gradient against tfjs's own, bit for bit (a copy; a gradient summed in double in
// the same order), over up- and down-sampling, odd sizes (the FPN's 38 -> 75), aligned corners;
// a batch's gradient against brute force, where tfjs 4.22's own kernel is wrong (below); half-
// pixel centres and other dtypes left to tfjs; and the ops' bad arguments.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { ops } = R;
const { prng } = require('../dist/util/prng');

const { countAddonCalls, bothWays: both } = require('./helpers/native-vs-tfjs');

// The addon's calls, to show the comparisons below run the native kernels.
const { addon, calls } = countAddonCalls(['resizeNearest', 'resizeNearestGrad']);

function input(seed, shape) {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => r.uniform(-3, 3)), shape);
}

// [in h, in w, out h, out w, alignCorners]
const CASES = [
  [38, 38, 75, 75, false],  // the FPN at 600 px: P4 -> C3's size
  [19, 19, 38, 38, false],
  [5, 7, 10, 14, false],  // exact 2x
  [5, 7, 11, 13, false],  // not a whole factor
  [9, 6, 4, 3, false],  // downsampling
  [9, 6, 4, 3, true],
  [5, 7, 11, 13, true],
  [1, 1, 3, 4, false],
  [4, 4, 1, 1, true],
  [3, 5, 3, 5, false],  // the same size
];

test('forward (a batch) and gradient (one image): the same bits as tfjs\'s cpu kernels', (t) => {
  const before = { ...calls };
  CASES.forEach(([h, w, oh, ow, alignCorners], i) => {
    const x = input(10 + i, [2, h, w, 3]);
    const x1 = input(30 + i, [1, h, w, 3]);
    const dy = input(50 + i, [1, oh, ow, 3]);
    // The gradient through tf.grad with a non-uniform dy, so every contribution's order shows.
    const [a, b] = both(() => {
      const y = tf.image.resizeNearestNeighbor(x, [oh, ow], alignCorners);
      const g = tf.grad((v) => tf.image.resizeNearestNeighbor(v, [oh, ow], alignCorners).mul(dy).sum())(x1);
      return [y, g];
    });
    t.deepEqual(a, b, `${h}x${w} -> ${oh}x${ow}, alignCorners ${alignCorners}`);
    tf.dispose([x, x1, dy]);
  });
  t.is(calls.resizeNearest - before.resizeNearest, 2 * CASES.length);  // the op and the gradient's forward
  t.is(calls.resizeNearestGrad - before.resizeNearestGrad, CASES.length);
});

/** d sum(resize(x) * dy) / dx by brute force, in double: each source pixel sums its copies' dy. */
function bruteGrad(dy, [batch, h, w, c], [oh, ow], alignCorners) {
  const rows = ops.nearestSources(h, oh, alignCorners), cols = ops.nearestSources(w, ow, alignCorners);
  const want = new Float64Array(batch * h * w * c);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let k = 0; k < c; k++) want[((b * h + rows[i]) * w + cols[j]) * c + k] += dy[((b * oh + i) * ow + j) * c + k];
      }
    }
  }
  return want;
}

test('a batch\'s gradient against brute force (tfjs 4.22\'s own kernel reads image b\'s dy at image 0\'s offset b·H·W·C)', (t) => {
  for (const [h, w, oh, ow, alignCorners] of CASES) {
    const shape = [3, h, w, 2];
    const x = tf.zeros(shape);
    const dyArr = Float32Array.from({ length: 3 * oh * ow * 2 }, (_, i) => ((i * 7919) % 1000) / 250 - 2);
    const dy = tf.tensor(dyArr, [3, oh, ow, 2]);
    const g = tf.grad((v) => tf.image.resizeNearestNeighbor(v, [oh, ow], alignCorners).mul(dy).sum())(x);
    const got = g.dataSync();
    const want = bruteGrad(dyArr, shape, [oh, ow], alignCorners);
    // Rounded once from the double sum: equal to the brute force's rounding.
    t.deepEqual(Array.from(got), Array.from(Float32Array.from(want)), `${h}x${w} -> ${oh}x${ow}, alignCorners ${alignCorners}`);
    tf.dispose([x, dy, g]);
  }
  // What tfjs's own kernel gives for a batch where the dy offsets differ: wrong from image 1 on.
  // (If a later tfjs fixes it, this says so: then the native kernel is the same bits as tfjs's.)
  R.useNativeCpuKernels(false);
  try {
    const dyArr = Float32Array.from({ length: 2 * 6 * 6 }, (_, i) => i + 1);
    const g = tf.grad((v) => tf.image.resizeNearestNeighbor(v, [6, 6]).mul(tf.tensor(dyArr, [2, 6, 6, 1])).sum())(tf.zeros([2, 3, 3, 1]));
    const want = bruteGrad(dyArr, [2, 3, 3, 1], [6, 6], false);
    t.deepEqual(Array.from(g.dataSync().slice(0, 9)), Array.from(want.slice(0, 9)), 'image 0 right');
    t.notDeepEqual(Array.from(g.dataSync().slice(9)), Array.from(want.slice(9)), 'image 1 wrong in tfjs 4.22\'s cpu kernel');
  } finally {
    R.useNativeCpuKernels(true);
  }
});

test('ops.resizeNearestGrad against a hand-written brute force: each input pixel sums the outputs that copied it', (t) => {
  const [h, w, oh, ow] = [5, 4, 12, 9];
  const dy = Float32Array.from({ length: oh * ow * 2 }, (_, i) => (i % 7) - 3 + i / 64);
  const g = { batch: 1, inHeight: h, inWidth: w, channels: 2, outHeight: oh, outWidth: ow };
  const dx = ops.resizeNearestGrad(dy, g);
  const want = new Float64Array(h * w * 2);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      const sy = Math.floor((i * h) / oh), sx = Math.floor((j * w) / ow);
      for (let c = 0; c < 2; c++) want[(sy * w + sx) * 2 + c] += dy[(i * ow + j) * 2 + c];
    }
  }
  want.forEach((v, k) => t.true(Math.abs(dx[k] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `dx[${k}]`));
  // Forward: every output pixel equals its source.
  const x = Float32Array.from({ length: h * w * 2 }, (_, i) => i);
  const y = ops.resizeNearest(x, g);
  t.is(y[((oh - 1) * ow + (ow - 1)) * 2 + 1], x[((h - 1) * w + (w - 1)) * 2 + 1]);
  t.is(y[(7 * ow + 4) * 2], x[(Math.floor((7 * h) / oh) * w + Math.floor((4 * w) / ow)) * 2]);
});

test('half-pixel centres and int32 images stay tfjs\'s; an empty output is an empty tensor', (t) => {
  const before = { ...calls };
  const x = input(3, [1, 5, 7, 2]);
  const [a, b] = both(() => [
    tf.image.resizeNearestNeighbor(x, [9, 4], false, true),
    tf.image.resizeNearestNeighbor(x.toInt(), [9, 4]),
  ]);
  t.deepEqual(a, b);
  t.deepEqual(calls, before);
  const e = tf.image.resizeNearestNeighbor(x, [0, 3]);
  t.deepEqual(e.shape, [1, 0, 3, 2]);
  tf.dispose([x, e]);
});

test('ops.resizeNearest / resizeNearestGrad: bad arguments are TypeErrors and RangeErrors; inputs untouched', (t) => {
  const g = { batch: 1, inHeight: 2, inWidth: 2, channels: 1, outHeight: 4, outWidth: 4 };
  const x = new Float32Array([1, 2, 3, 4]);
  t.throws(() => ops.resizeNearest([1, 2, 3, 4], g), { instanceOf: TypeError, message: /x: expected a Float32Array/ });
  t.throws(() => ops.resizeNearest(new Float32Array(3), g), { instanceOf: RangeError, message: /x: expected 4 elements/ });
  t.throws(() => ops.resizeNearest(x, null), { instanceOf: TypeError, message: /geometry/ });
  t.throws(() => ops.resizeNearest(x, { ...g, inHeight: 0 }), { instanceOf: RangeError, message: /geometry.inHeight/ });
  t.throws(() => ops.resizeNearest(x, { ...g, outWidth: 2.5 }), { instanceOf: RangeError, message: /geometry.outWidth/ });
  t.throws(() => ops.resizeNearest(x, { ...g, alignCorners: 1 }), { instanceOf: TypeError, message: /alignCorners/ });
  t.throws(() => ops.resizeNearest(x, { ...g, outHeight: 2 ** 20, outWidth: 2 ** 12 }), { instanceOf: RangeError, message: /y: the result/ });
  t.throws(() => ops.resizeNearestGrad(new Float32Array(15), g), { instanceOf: RangeError, message: /dy: expected 16 elements/ });
  t.deepEqual(Array.from(ops.resizeNearest(x, g)), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  t.deepEqual(Array.from(x), [1, 2, 3, 4]);
  const dy = new Float32Array(16).fill(0.5);
  t.deepEqual(Array.from(ops.resizeNearestGrad(dy, g)), [2, 2, 2, 2]);
  t.true(dy.every((v) => v === 0.5));
  // The binding checks what reaches it, too: indices out of range never read past x.
  t.throws(() => addon.resizeNearest(x, Float64Array.from([1, 2, 2, 1, 1, 1]), Int32Array.of(2), Int32Array.of(0)), { instanceOf: RangeError, message: /rows/ });
});
