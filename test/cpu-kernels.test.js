'use strict';
// The native Conv2D / backprop / FusedConv2D / BatchMatMul kernels against tfjs's own cpu kernels.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');

/** Runs f with the native kernels and with tfjs's own; returns both results as arrays. */
function both(f) {
  R.useNativeCpuKernels(true);
  const a = tf.tidy(f);
  R.useNativeCpuKernels(false);
  const b = tf.tidy(f);
  R.useNativeCpuKernels(true);
  const out = [a.shape, b.shape, a.dataSync(), b.dataSync()];
  tf.dispose([a, b]);
  return out;
}

// float32 sums in a different order: agree to 1e-5 of the largest magnitude (× sqrt of the depth).
function close(t, f, what, depth = 64) {
  const [sa, sb, a, b] = both(f);
  t.deepEqual(sa, sb, what);
  let scale = 1e-6, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  t.true(err <= 1e-5 * Math.sqrt(depth) * scale, `${what}: max error ${err} at scale ${scale}`);
}

const rnd = (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed);

const CONVS = [
  // [input NHWC, filter HWIO, strides, pad]
  [[1, 1, 1, 3], [1, 1, 3, 5], 1, 'valid'],
  [[1, 1, 1, 3], [3, 3, 3, 4], 1, 'same'],
  [[2, 13, 11, 5], [3, 3, 5, 7], 1, 'same'],
  [[2, 13, 11, 5], [3, 3, 5, 7], 2, 'same'],
  [[1, 9, 10, 17], [3, 3, 17, 33], 2, 'valid'],
  [[3, 8, 8, 16], [1, 1, 16, 16], 1, 'valid'],
  [[1, 7, 9, 3], [7, 7, 3, 11], 2, 'same'],
  [[1, 20, 20, 8], [7, 7, 8, 19], 2, [[0, 0], [3, 3], [3, 3], [0, 0]]],
  [[2, 6, 5, 4], [3, 3, 4, 6], [2, 1], [[0, 0], [1, 0], [0, 2], [0, 0]]],
  [[1, 32, 32, 64], [3, 3, 64, 48], 1, 'same'],
];

for (const [xs, ws, strides, pad] of CONVS) {
  const label = `x [${xs}] filter [${ws}] strides ${strides} pad ${JSON.stringify(pad)}`;
  test(`conv2d forward, both gradients and fused forms equal tfjs's kernels: ${label}`, (t) => {
    const x = rnd(xs, 1), w = rnd(ws, 2), bias = rnd([ws[3]], 3);
    const depth = ws[0] * ws[1] * ws[2];
    close(t, () => tf.conv2d(x, w, strides, pad), 'forward', depth);
    close(t, () => tf.grad((v) => tf.conv2d(v, w, strides, pad).square().sum())(x), 'd/dx', depth * ws[3]);
    close(t, () => tf.grad((v) => tf.conv2d(x, v, strides, pad).square().sum())(w), 'd/dfilter', depth * xs[1] * xs[2]);
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu']) {
      close(t, () => tf.fused.conv2d({ x, filter: w, strides, pad, bias, activation, leakyreluAlpha: 0.1 }), activation, depth);
    }
    close(t, () => tf.grad((v) => tf.fused.conv2d({ x: v, filter: w, strides, pad, bias, activation: 'relu' }).sum())(x), 'fused d/dx', depth);
    tf.dispose([x, w, bias]);
  });
}

test('batched and fused matrix products equal tfjs, with transposes and broadcasting', (t) => {
  const a = rnd([3, 17, 29], 4), b = rnd([3, 29, 6], 5), b1 = rnd([1, 29, 6], 6);
  close(t, () => tf.matMul(a, b), 'batched', 29);
  close(t, () => tf.matMul(b, a, true, true), 'transposed', 29);
  close(t, () => tf.matMul(a, b1), 'broadcast b', 29);
  close(t, () => tf.matMul(rnd([1, 1], 7), rnd([1, 300], 8)), '1 x 1 by 1 x 300', 1);
  close(t, () => tf.matMul(rnd([64, 700], 9), rnd([700, 33], 10)), '64 x 700 by 700 x 33', 700);
  for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu']) {
    close(t, () => tf.fused.matMul({ a: rnd([40, 30], 11), b: rnd([30, 20], 12), bias: rnd([20], 13), activation }), activation, 30);
  }
  close(t, () => tf.grad((v) => tf.matMul(v, rnd([30, 20], 14)).square().sum())(rnd([40, 30], 15)), 'matmul grad', 600);
});

test('matrix products of any rank from 2 run natively, tf.matMul of two matrices included', (t) => {
  // Float32 sums in the native order against tfjs's float64 ones: some bits differ wherever the
  // native kernel ran (the same bits everywhere would mean tfjs's own kernel computed both).
  const cases = [
    ['2-D', () => tf.matMul(rnd([64, 700], 9), rnd([700, 33], 10)), 700],
    ['2-D transposed', () => tf.matMul(rnd([700, 64], 16), rnd([33, 700], 17), true, true), 700],
    ['4-D', () => tf.matMul(rnd([2, 3, 17, 129], 18), rnd([2, 3, 129, 6], 19)), 129],
    ['3-D by 2-D, broadcast', () => tf.matMul(rnd([3, 17, 129], 20), rnd([129, 6], 21)), 129],
    ['fused 2-D', () => tf.fused.matMul({ a: rnd([40, 300], 22), b: rnd([300, 20], 23), bias: rnd([20], 24), activation: 'relu' }), 300],
  ];
  for (const [what, f, depth] of cases) {
    close(t, f, what, depth);
    const [, , a, b] = both(f);
    t.false(a.every((v, i) => v === b[i]), `${what}: the same bits as tfjs's own kernel`);
  }
  // Outer dimensions broadcast from both sides: left to tfjs, same shape and values.
  close(t, () => tf.matMul(rnd([2, 1, 5, 7], 25), rnd([1, 2, 7, 3], 26)), 'broadcast from both sides', 7);
});

test('uncovered cases fall through to tfjs: dilation, NCHW-free dtype, prelu, elu', (t) => {
  const x = rnd([1, 9, 9, 3], 16), w = rnd([3, 3, 3, 4], 17);
  close(t, () => tf.conv2d(x, w, 1, 'same', 'NHWC', 2), 'dilation 2');
  close(t, () => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', activation: 'elu' }), 'elu');
  close(t, () => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: rnd([1, 1, 1, 4], 18), activation: 'prelu', preluActivationWeights: rnd([4], 19) }), 'prelu');
  close(t, () => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: tf.scalar(0.5) }), 'scalar bias');
});

test('a small conv net trains to the same losses with and without the native kernels', (t) => {
  const run = (native) => {
    R.useNativeCpuKernels(native);
    const x = rnd([4, 16, 16, 3], 20);
    const target = rnd([4, 8, 8, 2], 21);
    const w1 = tf.variable(rnd([3, 3, 3, 8], 22).mul(0.3));
    const b1 = tf.variable(tf.zeros([8]));
    const w2 = tf.variable(rnd([3, 3, 8, 2], 23).mul(0.3));
    const dense = tf.variable(rnd([2, 2], 24).mul(0.3));
    const opt = tf.train.momentum(0.01, 0.9);
    const losses = [];
    for (let step = 0; step < 6; step++) {
      const loss = opt.minimize(() => {
        const h = tf.fused.conv2d({ x, filter: w1, strides: 1, pad: 'same', bias: b1, activation: 'relu' });
        const y = tf.conv2d(h, w2, 2, 'same');
        const z = tf.matMul(y.reshape([-1, 2]), dense).reshape(y.shape);
        return tf.losses.meanSquaredError(target, z);
      }, true);
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    tf.dispose([x, target, w1, b1, w2, dense]);
    opt.dispose();
    return losses;
  };
  const native = run(true);
  const own = run(false);
  R.useNativeCpuKernels(true);
  t.true(native[5] < native[0]);
  native.forEach((l, i) => t.true(Math.abs(l - own[i]) <= 1e-4 * Math.abs(own[i]), `step ${i}: ${l} vs ${own[i]}`));
});

test('useNativeCpuKernels switches, and reports what it covers', (t) => {
  t.true(R.nativeCpuKernels().enabled);
  t.deepEqual(R.nativeCpuKernels().kernels.sort(), ['Add', 'BatchMatMul', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
    'FusedConv2D', 'MaxPool', 'MaxPoolGrad', 'Maximum', 'Minimum', 'Multiply', 'RealDiv', 'Relu', 'ResizeNearestNeighbor', 'ResizeNearestNeighborGrad', 'Step', 'Sub', 'Sum',
    '_FusedMatMul']);
  R.useNativeCpuKernels(false);
  t.false(R.nativeCpuKernels().enabled);
  R.useNativeCpuKernels(true);
  t.throws(() => R.useNativeCpuKernels('no'), { instanceOf: TypeError });
});
