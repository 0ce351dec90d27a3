'use strict';
// conv2dBiasAct: one FusedConv2D kernel in training too, ReLU's gradient in one native pass. It
// must give tf.fused.conv2d's values and gradients (which tfjs computes unfused under tf.grad).
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { conv2dBiasAct, RELU_GRAD } = require('../dist/accel/conv2d-bias-act');
const { prng } = require('../dist/util/prng');

function rand(shape, seed, scale = 1) {
  const r = prng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 2 * scale), shape);
}

function maxDiff(a, b) {
  const x = a.dataSync(), y = b.dataSync();
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  return { d, m };
}

const CASES = [
  // [x shape, filter shape, strides, pad]
  [[2, 9, 7, 5], [3, 3, 5, 6], 1, [[0, 0], [1, 1], [1, 1], [0, 0]]],
  [[1, 10, 11, 8], [3, 3, 8, 16], 2, [[0, 0], [1, 1], [1, 1], [0, 0]]],
  [[2, 6, 6, 4], [1, 1, 4, 7], 1, 'valid'],
  [[1, 13, 13, 3], [7, 7, 3, 8], 2, 'same'],
  [[1, 1, 1, 3], [1, 1, 3, 2], 1, 'valid'],
];

for (const native of [true, false]) {
  for (const [xs, ws, strides, pad] of CASES) {
    for (const activation of ['relu', 'linear']) {
      for (const [withBias, withResidual] of [[true, false], [false, false], [true, true], [false, true]]) {
        const title = `${native ? 'native' : "tfjs's own"} kernels: x [${xs}] filter [${ws}] stride ${strides} pad ${JSON.stringify(pad)} ${activation}${withBias ? ' + bias' : ''}${withResidual ? ' + residual' : ''}: values and gradients equal tfjs's`;
        test.serial(title, (t) => {
          R.useNativeCpuKernels(native);
          try {
            const x = rand(xs, 1), w = rand(ws, 2, 0.5), b = withBias ? rand([ws[3]], 3) : undefined;
            const outShape = [xs[0], ...tf.conv2d(x, w, strides, pad).shape.slice(1)];
            const res = withResidual ? rand(outShape, 5) : undefined;
            // Weights on dy so that every output position matters differently.
            const probe = rand(outShape, 4);
            // tfjs's reference: tf.fused.conv2d, and for a residual tf.add then the activation.
            const reference = ({ residual, ...a }) => {
              if (!residual) return tf.fused.conv2d(a);
              const sum = tf.fused.conv2d({ ...a, activation: 'linear' }).add(residual);
              return a.activation === 'relu' ? tf.relu(sum) : sum;
            };
            const inputs = [x, w, ...(withBias ? [b] : []), ...(withResidual ? [res] : [])];
            const args = (xx, ww, ...rest) => ({
              x: xx, filter: ww, bias: withBias ? rest[0] : undefined, residual: withResidual ? rest[withBias ? 1 : 0] : undefined,
              strides, pad, activation,
            });
            const loss = (f) => (...v) => f(args(...v)).mul(probe).sum();
            const ours = tf.grads(loss(conv2dBiasAct))(inputs);
            const ref = tf.grads(loss(reference))(inputs);
            const yo = conv2dBiasAct(args(...inputs)), yr = reference(args(...inputs));
            const names = ['y', 'dx', 'dfilter', ...(withBias ? ['dbias'] : []), ...(withResidual ? ['dresidual'] : [])];
            t.is(ours.length, inputs.length);
            [[yo, yr], ...ours.map((g, i) => [g, ref[i]])].forEach(([a, r], i) => {
              t.deepEqual(a.shape, r.shape, names[i]);
              const { d, m } = maxDiff(a, r);
              t.true(d <= 1e-5 * Math.max(1, m), `${names[i]}: max diff ${d} (max |value| ${m})`);
            });
            tf.dispose([x, w, b, res, probe, yo, yr, ...ours, ...ref].filter(Boolean));
          } finally {
            R.useNativeCpuKernels(true);
          }
        });
      }
    }
  }
}

for (const native of [true, false]) {
  test.serial(`${native ? 'native' : "tfjs's own"} kernels: inputGradient false gives the filter's and bias's gradients of tf.fused.conv2d and runs no input-gradient convolution`, async (t) => {
    R.useNativeCpuKernels(native);
    try {
      for (const [xs, ws, strides, pad] of CASES) {
        const x = rand(xs, 1), w = rand(ws, 2, 0.5), b = rand([ws[3]], 3);
        const probe = rand([xs[0], ...tf.conv2d(x, w, strides, pad).shape.slice(1)], 4);
        const loss = (f) => (ww, bb) => f({ x, filter: ww, bias: bb, strides, pad, activation: 'relu' }).mul(probe).sum();
        const ours = tf.grads(loss((a) => conv2dBiasAct({ ...a, inputGradient: false })))([w, b]);
        const ref = tf.grads(loss(tf.fused.conv2d))([w, b]);
        ours.forEach((g, i) => {
          const { d, m } = maxDiff(g, ref[i]);
          t.true(d <= 1e-5 * Math.max(1, m), `[${xs}] [${ws}] ${['dfilter', 'dbias'][i]}: max diff ${d}`);
        });
        const prof = await tf.profile(() => tf.grads(loss((a) => conv2dBiasAct({ ...a, inputGradient: false })))([w, b]));
        const names = prof.kernels.map((k) => k.name);
        t.true(names.includes('Conv2DBackpropFilter'), `[${xs}] [${ws}]: ${names}`);
        t.false(names.includes('Conv2DBackpropInput'), `[${xs}] [${ws}]: ${names}`);
        // x is not among the op's inputs: its gradient cannot be asked for.
        t.throws(() => tf.grad((xx) => conv2dBiasAct({ x: xx, filter: w, bias: b, strides, pad, inputGradient: false }).sum())(x), { message: /Cannot compute gradient/ });
        tf.dispose([x, w, b, probe, ...ours, ...ref]);
      }
      t.throws(() => conv2dBiasAct({ x: rand([1, 4, 4, 2], 1), filter: rand([1, 1, 2, 2], 2), pad: 'valid', inputGradient: 'no' }), { instanceOf: TypeError, message: /^inputGradient:/ });
    } finally {
      R.useNativeCpuKernels(true);
    }
  });
}

test.serial('biasGradient false: the same values and input and filter gradients, no sum for the bias, and its gradient cannot be asked for', async (t) => {
  for (const [xs, ws, strides, pad] of CASES) {
    const x = rand(xs, 1), w = rand(ws, 2, 0.5), b = rand([ws[3]], 3);
    const probe = rand([xs[0], ...tf.conv2d(x, w, strides, pad).shape.slice(1)], 4);
    const loss = (f) => (xx, ww) => f({ x: xx, filter: ww, bias: b, strides, pad, activation: 'relu' }).mul(probe).sum();
    const ours = tf.grads(loss((a) => conv2dBiasAct({ ...a, biasGradient: false })))([x, w]);
    const ref = tf.grads(loss(tf.fused.conv2d))([x, w]);
    ours.forEach((g, i) => {
      const { d, m } = maxDiff(g, ref[i]);
      t.true(d <= 1e-5 * Math.max(1, m), `[${xs}] [${ws}] ${['dx', 'dfilter'][i]}: max diff ${d}`);
    });
    // The loss has one Sum of its own; the bias's gradient would be another.
    const sums = async (biasGradient) => (await tf.profile(() => tf.grads(loss((a) => conv2dBiasAct({ ...a, biasGradient })))([x, w])))
      .kernels.filter((k) => k.name === 'Sum').length;
    t.is(await sums(false), (await sums(true)) - 1, `[${xs}] [${ws}]`);
    t.throws(() => tf.grad((bb) => conv2dBiasAct({ x, filter: w, bias: bb, strides, pad, biasGradient: false }).sum())(b), { message: /Cannot compute gradient/ });
    tf.dispose([x, w, b, probe, ...ours, ...ref]);
  }
  t.throws(() => conv2dBiasAct({ x: rand([1, 4, 4, 2], 1), filter: rand([1, 1, 2, 2], 2), pad: 'valid', biasGradient: 1 }), { instanceOf: TypeError, message: /^biasGradient:/ });
});

test('the ReLU-gradient kernel gives the bits of tf.mul(dy, tf.step(y)), special values included', (t) => {
  const special = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 1e-45, -3.5, 2.5e38];
  const dyv = [], yv = [];
  for (const a of special) for (const b of special) { dyv.push(a); yv.push(b); }
  // Large enough for the native kernels (small tensors stay with tfjs).
  while (dyv.length < 4096) { dyv.push(dyv.length % 7 - 3); yv.push((yv.length % 5) - 2); }
  const dy = tf.tensor1d(dyv), y = tf.tensor1d(yv);
  const ours = tf.engine().runKernel(RELU_GRAD, { dy, y });
  const ref = tf.mul(dy, tf.step(y));
  const a = new Uint32Array(ours.dataSync().buffer.slice(0)), b = new Uint32Array(ref.dataSync().buffer.slice(0));
  const fa = ours.dataSync(), fb = ref.dataSync();
  let same = 0;
  for (let i = 0; i < a.length; i++) {
    // Two NaN operands may give either one's bits (as V8 itself may): NaN-ness must agree there.
    if (Number.isNaN(fb[i])) t.true(Number.isNaN(fa[i]), `element ${i}: dy ${dyv[i]}, y ${yv[i]}`);
    else if (a[i] === b[i]) same++;
    else t.fail(`element ${i}: dy ${dyv[i]}, y ${yv[i]}: ${fa[i]} vs ${fb[i]}`);
  }
  t.true(same > 4000);
  tf.dispose([dy, y, ours, ref]);
});

test('no tensor is left behind over training steps, and bad arguments are refused', (t) => {
  const x = rand([1, 8, 8, 4], 5), w = tf.variable(rand([3, 3, 4, 6], 6)), b = tf.variable(rand([6], 7));
  const res = rand([1, 8, 8, 6], 8);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => conv2dBiasAct({ x, filter: w, bias: b, pad: 'same', activation: 'relu' })
      .add(conv2dBiasAct({ x, filter: w, bias: b, residual: res, pad: 'same', activation: 'relu' })).square().sum());
    return Object.values(grads).map((g) => g.dataSync()[0]);
  });
  step();
  const n = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  t.is(tf.memory().numTensors, n);
  t.throws(() => conv2dBiasAct({ x: x.dataSync(), filter: w, pad: 'same' }), { instanceOf: TypeError, message: /^x:/ });
  t.throws(() => conv2dBiasAct({ x, filter: rand([3, 3, 5, 6], 1), pad: 'same' }), { instanceOf: RangeError, message: /^filter:/ });
  t.throws(() => conv2dBiasAct({ x, filter: w, bias: rand([5], 1), pad: 'same' }), { instanceOf: RangeError, message: /^bias:/ });
  t.throws(() => conv2dBiasAct({ x, filter: w, pad: 'same', activation: 'sigmoid' }), { instanceOf: RangeError, message: /^activation:/ });
  t.throws(() => conv2dBiasAct({ x, filter: w }), { instanceOf: TypeError, message: /^pad: expected 'valid', 'same' or/ });
  t.throws(() => conv2dBiasAct({ x, filter: w, pad: [[0, 0], [1, 1], [1, -1], [0, 0]] }), { instanceOf: TypeError, message: /^pad:/ });
  t.throws(() => conv2dBiasAct({ x, filter: w, pad: 'valid', residual: rand([1, 8, 8, 6], 1) }), { instanceOf: RangeError, message: /^residual: expected the output's shape \[1,6,6,6\]/ });
  tf.dispose([x, w, b, res]);
});

test('reluFast: the values and gradient bits of tf.relu, its gradient one native pass from the output', (t) => {
  const { reluFast } = require('../dist/accel/conv2d-bias-act');
  const x = tf.randomNormal([4, 16, 16, 32], 0, 1, 'float32', 12);
  const r = tf.randomNormal([4, 16, 16, 32], 0, 1, 'float32', 13);
  const f = (op) => (v) => op(v).mul(r).sum();
  const [ga, gb] = [tf.grad(f(reluFast))(x), tf.grad(f(tf.relu))(x)];
  t.deepEqual(Array.from(new Uint32Array(reluFast(x).dataSync().buffer)), Array.from(new Uint32Array(tf.relu(x).dataSync().buffer)));
  t.deepEqual(Array.from(new Uint32Array(ga.dataSync().buffer)), Array.from(new Uint32Array(gb.dataSync().buffer)));
  tf.dispose([x, r, ga, gb]);
});
