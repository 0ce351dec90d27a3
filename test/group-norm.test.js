'use strict';
// The native GroupNorm (ops and tfjs kernel + gradient) against a float64 brute force written
// here from torch.nn.GroupNorm's definition, finite differences, and the plain-tfjs twin.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { ops } = R;
const { groupNormRef } = require('../dist/reference');
const { prng } = require('../dist/util/prng');

/** Forward in float64: { y, mean, rstd } (y as Float64Array). */
function gn64(x, [B, H, W, C], G, gamma, beta, eps = 1e-5) {
  const cg = C / G, P = H * W, n = P * cg;
  const y = new Float64Array(x.length), mean = new Float64Array(B * G), rstd = new Float64Array(B * G);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      let m = 0;
      for (let p = 0; p < P; p++) for (let c = g * cg; c < (g + 1) * cg; c++) m += x[(b * P + p) * C + c];
      m /= n;
      let v = 0;
      for (let p = 0; p < P; p++) for (let c = g * cg; c < (g + 1) * cg; c++) v += (x[(b * P + p) * C + c] - m) ** 2;
      v /= n;
      const r = 1 / Math.sqrt(v + eps);
      mean[b * G + g] = m;
      rstd[b * G + g] = r;
      for (let p = 0; p < P; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (b * P + p) * C + c;
          y[i] = (x[i] - m) * r * gamma[c] + beta[c];
        }
      }
    }
  }
  return { y, mean, rstd };
}

/** Gradients of Σ y·dy in float64 from the textbook formulas: { dx, dgamma, dbeta }. */
function gnGrad64(dy, x, [B, H, W, C], G, gamma, eps = 1e-5) {
  const { mean, rstd } = gn64(x, [B, H, W, C], G, gamma, new Float64Array(C), eps);
  const cg = C / G, P = H * W, n = P * cg;
  const dx = new Float64Array(x.length), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      const m = mean[b * G + g], r = rstd[b * G + g];
      let a = 0, q = 0;
      for (let p = 0; p < P; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (b * P + p) * C + c, xh = (x[i] - m) * r;
          a += gamma[c] * dy[i];
          q += gamma[c] * dy[i] * xh;
          dgamma[c] += dy[i] * xh;
          dbeta[c] += dy[i];
        }
      }
      for (let p = 0; p < P; p++) {
        for (let c = g * cg; c < (g + 1) * cg; c++) {
          const i = (b * P + p) * C + c, xh = (x[i] - m) * r;
          dx[i] = r * (gamma[c] * dy[i] - a / n - (xh * q) / n);
        }
      }
    }
  }
  return { dx, dgamma, dbeta };
}

function randomArray(r, n, lo = -1, hi = 1) {
  return Float32Array.from({ length: n }, () => r.uniform(lo, hi));
}

/** Max |a − b| over max(1e-3, max |b|): the error relative to the tensor's scale. */
function scaledErr(a, b) {
  let err = 0, scale = 1e-3;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / scale;
}

// [B, H, W, C, G]: odd channel counts, G = 1, G = C, 1x1 images, batch > 1.
const SHAPES = [
  [1, 1, 1, 1, 1],
  [2, 3, 5, 6, 3],
  [1, 1, 1, 8, 8],
  [3, 1, 1, 12, 4],
  [3, 4, 4, 7, 1],
  [2, 9, 7, 20, 4],
  [1, 5, 3, 48, 48],
  [2, 16, 16, 64, 32],
  [1, 33, 31, 24, 8],
];

function inputs(seed, [B, H, W, C], offset = 0) {
  const r = prng(seed);
  const x = randomArray(r, B * H * W * C, offset - 2, offset + 2);
  return { r, x, gamma: randomArray(r, C, -2, 2), beta: randomArray(r, C, -1, 1), dy: randomArray(r, B * H * W * C) };
}

for (const [B, H, W, C, G] of SHAPES) {
  const shape = [B, H, W, C];
  const label = `[${shape}] groups ${G}`;

  test(`forward equals the float64 brute force and the tfjs twin: ${label}`, (t) => {
    for (const [offset, eps] of [[0, 1e-5], [7, 1e-3]]) {
      const { x, gamma, beta } = inputs(B * 1000 + C, shape, offset);
      const want = gn64(x, shape, G, gamma, beta, eps);
      const got = ops.groupNorm(x, shape, G, gamma, beta, { eps });
      t.true(scaledErr(got.y, want.y) < 2e-6, `y vs float64 (offset ${offset}): ${scaledErr(got.y, want.y)}`);
      t.true(scaledErr(got.mean, want.mean) < 1e-6, 'mean');
      t.true(scaledErr(got.rstd, want.rstd) < 1e-5, 'rstd');
      t.is(got.mean.length, B * G);
      const [y, ref] = tf.tidy(() => {
        const xt = tf.tensor4d(x, shape), gt = tf.tensor1d(gamma), bt = tf.tensor1d(beta);
        return [R.groupNorm(xt, gt, bt, G, eps), groupNormRef(xt, gt, bt, G, eps)];
      });
      t.deepEqual(y.shape, shape);
      t.deepEqual(y.dataSync(), got.y, 'the tensor op gives the typed-array op\'s values');
      const twinErr = scaledErr(y.dataSync(), ref.dataSync());
      // The twin computes its moments in float32: it, not the native kernel, carries most of this.
      t.true(twinErr < (offset ? 5e-4 : 2e-5), `vs twin: ${twinErr}`);
      tf.dispose([y, ref]);
    }
  });

  test(`gradients (dx, dgamma, dbeta) equal float64, finite differences and the twin's tf.grads: ${label}`, (t) => {
    const { x, gamma, beta, dy, r } = inputs(B * 77 + C, shape);
    const want = gnGrad64(dy, x, shape, G, gamma);
    const fwd = ops.groupNorm(x, shape, G, gamma, beta);
    const got = ops.groupNormBackward(dy, x, shape, G, fwd.mean, fwd.rstd, gamma);
    // dx is a difference of terms of size rstd·|γ·dy| (which cancel exactly in 1-value groups):
    // its float32 error is relative to them.
    let terms = 0;
    for (let i = 0; i < x.length; i++) {
      const bg = Math.floor(i / (H * W * C)) * G + Math.floor((i % C) / (C / G));
      terms = Math.max(terms, fwd.rstd[bg] * Math.abs(gamma[i % C] * dy[i]));
    }
    const dxScale = Math.max(1e-3, terms, ...want.dx.map(Math.abs));
    const absErr = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    t.true(absErr(got.dx, want.dx) / dxScale < 2e-6, `dx vs float64: ${absErr(got.dx, want.dx) / dxScale}`);
    t.true(scaledErr(got.dgamma, want.dgamma) < 2e-6, 'dgamma vs float64');
    t.true(scaledErr(got.dbeta, want.dbeta) < 1e-6, 'dbeta vs float64');

    // Central differences of the float64 forward's Σ y·dy, at a few coordinates of each input.
    const loss = (xx, gg, bb) => gn64(xx, shape, G, gg, bb).y.reduce((s, v, i) => s + v * dy[i], 0);
    const h = 1e-5;
    const fd = (arr, i, f) => {
      const p = Float64Array.from(arr), m = Float64Array.from(arr);
      p[i] += h;
      m[i] -= h;
      return (f(p) - f(m)) / (2 * h);
    };
    for (let k = 0; k < 6; k++) {
      const i = r.int(0, x.length), c = r.int(0, C);
      const dxFd = fd(x, i, (v) => loss(v, gamma, beta));
      const dgFd = fd(gamma, c, (v) => loss(x, v, beta));
      const dbFd = fd(beta, c, (v) => loss(x, gamma, v));
      const tol = (v) => 1e-4 * Math.max(1, Math.abs(v));
      t.true(Math.abs(dxFd - got.dx[i]) < tol(dxFd) * (x.length > 1 ? 10 : 1), `dx[${i}]: ${got.dx[i]} vs fd ${dxFd}`);
      t.true(Math.abs(dgFd - got.dgamma[c]) < tol(dgFd), `dgamma[${c}]: ${got.dgamma[c]} vs fd ${dgFd}`);
      t.true(Math.abs(dbFd - got.dbeta[c]) < tol(dbFd), `dbeta[${c}]: ${got.dbeta[c]} vs fd ${dbFd}`);
    }

    // Through tf.grads: the registered gradient against the twin's autodiff.
    const grads = (f) => tf.tidy(() => {
      const xt = tf.tensor4d(x, shape), gt = tf.tensor1d(gamma), bt = tf.tensor1d(beta), w = tf.tensor4d(dy, shape);
      return tf.grads((a, b, c) => f(a, b, c).mul(w).sum())([xt, gt, bt]);
    });
    const native = grads((a, b, c) => R.groupNorm(a, b, c, G));
    const twin = grads((a, b, c) => groupNormRef(a, b, c, G));
    t.deepEqual(native.map((g) => g.shape), [shape, [C], [C]]);
    t.deepEqual(native[0].dataSync(), got.dx, 'tf.grads dx is the ops backward\'s');
    t.deepEqual(native[1].dataSync(), got.dgamma);
    t.deepEqual(native[2].dataSync(), got.dbeta);
    ['dx', 'dgamma', 'dbeta'].forEach((name, i) => {
      const e = i === 0 ? absErr(native[0].dataSync(), twin[0].dataSync()) / dxScale : scaledErr(native[i].dataSync(), twin[i].dataSync());
      t.true(e < 2e-4, `${name} vs the twin's tf.grads: ${e}`);
    });
    tf.dispose([...native, ...twin]);
  });
}

test('a constant group (zero variance) gives beta, and its gradient stays finite', (t) => {
  const shape = [2, 3, 3, 4];
  const x = new Float32Array(72).fill(2.5);
  const gamma = Float32Array.from([1, 2, 3, 4]), beta = Float32Array.from([0.5, -1, 0, 3]);
  const { y, mean, rstd } = ops.groupNorm(x, shape, 2, gamma, beta);
  for (let i = 0; i < y.length; i++) t.is(y[i], beta[i % 4]);
  t.deepEqual([...mean], [2.5, 2.5, 2.5, 2.5]);
  t.is(rstd[0], Math.fround(1 / Math.sqrt(1e-5)));
  const g = ops.groupNormBackward(new Float32Array(72).fill(1), x, shape, 2, mean, rstd, gamma);
  t.true([...g.dx, ...g.dgamma, ...g.dbeta].every(Number.isFinite));
});

test('empty batches and empty images are valid', (t) => {
  const g = new Float32Array([1, 1]), b = new Float32Array([0, 0]);
  const a = ops.groupNorm(new Float32Array(0), [0, 4, 4, 2], 1, g, b);
  t.is(a.y.length, 0);
  t.is(a.mean.length, 0);
  const e = ops.groupNorm(new Float32Array(0), [2, 0, 3, 2], 2, g, b);
  t.is(e.y.length, 0);
  t.is(e.mean.length, 4);
  const back = ops.groupNormBackward(new Float32Array(0), new Float32Array(0), [2, 0, 3, 2], 2, e.mean, e.rstd, g);
  t.deepEqual([...back.dgamma, ...back.dbeta], [0, 0, 0, 0]);
});

test('the same bits with one thread and with several', (t) => {
  const shape = [3, 37, 29, 48];
  const { x, gamma, beta, dy } = inputs(5, shape, 1);
  const run = () => {
    const f = ops.groupNorm(x, shape, 16, gamma, beta);
    return [f, ops.groupNormBackward(dy, x, shape, 16, f.mean, f.rstd, gamma)];
  };
  const before = ops.numThreads();
  ops.setNumThreads(1);
  const one = run();
  ops.setNumThreads(4);
  const four = run();
  ops.setNumThreads(before);
  t.deepEqual(one, four);
});

// Serial: tf.profile and the backend switch below must not see other tests' kernels.
test.serial('no input is modified, and the gradient kernel runs once per backward pass without leaking', async (t) => {
  const shape = [2, 6, 5, 12];
  const { x, gamma, beta, dy } = inputs(9, shape);
  const copies = [x, gamma, beta, dy].map((a) => a.slice());
  const f = ops.groupNorm(x, shape, 3, gamma, beta);
  const stats = [f.mean.slice(), f.rstd.slice()];
  ops.groupNormBackward(dy, x, shape, 3, f.mean, f.rstd, gamma);
  t.deepEqual([x, gamma, beta, dy], copies);
  t.deepEqual([f.mean, f.rstd], stats);

  const xt = tf.tensor4d(x, shape), gt = tf.variable(tf.tensor1d(gamma)), bt = tf.variable(tf.tensor1d(beta));
  const w = tf.tensor4d(dy, shape);
  const before = tf.memory().numTensors;
  const y = R.groupNorm(xt, gt, bt, 3);
  t.is(tf.memory().numTensors, before + 1, 'a forward pass leaves only y');
  y.dispose();
  const profile = await tf.profile(() => {
    const g = tf.grads((a, b, c) => R.groupNorm(a, b, c, 3).mul(w).sum())([xt, gt, bt]);
    tf.dispose(g);
  });
  t.is(profile.kernels.filter((k) => k.name === R.GROUP_NORM_GRAD).length, 1, 'one native backward call for dx, dgamma and dbeta');
  // Only x's gradient asked for: dgamma and dbeta are disposed, not leaked.
  const dxOnly = tf.grad((a) => R.groupNorm(a, gt, bt, 3).mul(w).sum())(xt);
  dxOnly.dispose();
  const { grads, value } = tf.variableGrads(() => R.groupNorm(xt, gt, bt, 3).mul(w).sum(), [gt, bt]);
  tf.dispose([value, grads[gt.name], grads[bt.name]]);
  t.is(tf.memory().numTensors, before, 'no tensor leaks');
  t.deepEqual(xt.dataSync(), x);
  t.deepEqual(gt.dataSync(), gamma);
  tf.dispose([xt, gt, bt, w]);
});

test('bad arguments are TypeErrors or RangeErrors naming the argument', (t) => {
  const x = new Float32Array(2 * 3 * 3 * 4), g = new Float32Array(4), b = new Float32Array(4);
  const shape = [2, 3, 3, 4];
  const bad = [
    [() => ops.groupNorm([1, 2], shape, 2, g, b), TypeError, /x: expected a Float32Array/],
    [() => ops.groupNorm(new Float64Array(72), shape, 2, g, b), TypeError, /x:/],
    [() => ops.groupNorm(x.subarray(1), shape, 2, g, b), RangeError, /x: expected 72 elements/],
    [() => ops.groupNorm(x, [2, 3, 3], 2, g, b), RangeError, /shape/],
    [() => ops.groupNorm(x, 'nhwc', 2, g, b), TypeError, /shape/],
    [() => ops.groupNorm(x, [2, 3, 3.5, 4], 2, g, b), RangeError, /shape\[2\]/],
    [() => ops.groupNorm(x, [2, 3, 3, 0], 1, g, b), RangeError, /channels/],
    [() => ops.groupNorm(x, shape, 3, g, b), RangeError, /groups: 3 does not divide/],
    [() => ops.groupNorm(x, shape, 0, g, b), RangeError, /groups/],
    [() => ops.groupNorm(x, shape, 8, g, b), RangeError, /groups/],
    [() => ops.groupNorm(x, shape, '2', g, b), TypeError, /groups/],
    [() => ops.groupNorm(x, shape, 2, new Float32Array(3), b), RangeError, /gamma: expected 4/],
    [() => ops.groupNorm(x, shape, 2, g, null), TypeError, /beta/],
    [() => ops.groupNorm(x, shape, 2, g, b, { eps: 0 }), RangeError, /eps/],
    [() => ops.groupNorm(x, shape, 2, g, b, { eps: NaN }), RangeError, /eps/],
    [() => ops.groupNorm(x, shape, 2, g, b, { epsilon: 1e-3 }), TypeError, /unknown option 'epsilon'/],
    [() => ops.groupNormBackward(x, x, shape, 2, new Float32Array(3), new Float32Array(4), g), RangeError, /mean: expected 4/],
    [() => ops.groupNormBackward(x, x, shape, 2, new Float32Array(4), new Float32Array(4), new Int32Array(4)), TypeError, /gamma/],
    [() => ops.groupNormBackward(x.subarray(2), x, shape, 2, new Float32Array(4), new Float32Array(4), g), RangeError, /dy/],
  ];
  for (const [f, type, message] of bad) t.throws(f, { instanceOf: type, message });

  const xt = tf.zeros([2, 3, 3, 4]), gt = tf.ones([4]), bt = tf.zeros([4]);
  const tbad = [
    [() => R.groupNorm(x, gt, bt, 2), TypeError, /x: expected a tf.Tensor/],
    [() => R.groupNorm(xt.reshape([2, 9, 4]), gt, bt, 2), RangeError, /x: expected rank 4/],
    [() => R.groupNorm(xt.toInt(), gt, bt, 2), TypeError, /x: expected a float32 tensor/],
    [() => R.groupNorm(xt, tf.ones([3]), bt, 2), RangeError, /gamma: expected shape \[4\]/],
    [() => R.groupNorm(xt, gt, tf.zeros([1, 4]), 2), RangeError, /beta: expected rank 1/],
    [() => R.groupNorm(xt, gt, bt, 3), RangeError, /groups/],
    [() => R.groupNorm(xt, gt, bt, 2, -1), RangeError, /eps/],
  ];
  for (const [f, type, message] of tbad) t.throws(() => tf.tidy(f), { instanceOf: type, message });
  tf.dispose([xt, gt, bt]);
});

test.serial('on a backend without the native kernel, the tfjs formula runs (same values, same gradients)', async (t) => {
  const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu');
  tf.registerBackend('gn-fallback-test', () => new MathBackendCPU());
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!k.kernelName.startsWith('Retinanet')) tf.registerKernel({ ...k, backendName: 'gn-fallback-test' });
  }
  const shape = [2, 4, 3, 8];
  const { x, gamma, beta, dy } = inputs(11, shape);
  const run = () => tf.tidy(() => {
    const xt = tf.tensor4d(x, shape), gt = tf.tensor1d(gamma), bt = tf.tensor1d(beta), w = tf.tensor4d(dy, shape);
    const y = R.groupNorm(xt, gt, bt, 4);
    const g = tf.grads((a, b, c) => R.groupNorm(a, b, c, 4).mul(w).sum())([xt, gt, bt]);
    return [y, ...g].map((v) => v.dataSync());
  });
  const native = run();
  t.true(await tf.setBackend('gn-fallback-test'));
  try {
    t.is(tf.getBackend(), 'gn-fallback-test');
    const before = tf.memory().numTensors;
    const fallback = run();
    t.is(tf.memory().numTensors, before);
    native.forEach((a, i) => t.true(scaledErr(a, fallback[i]) < 1e-4, `output ${i}: ${scaledErr(a, fallback[i])}`));
  } finally {
    await tf.setBackend('cpu');
    tf.removeBackend('gn-fallback-test');
  }
});

test("the model's GroupNorm layer runs the native kernel and equals the twin", (t) => {
  const { Params, NormLayer } = require('../dist/model/params');
  const p = new Params(3);
  const layer = new NormLayer(p, 'gn', 40, 'gn');
  const x = tf.randomNormal([2, 7, 5, 40], 0.5, 2, 'float32', 4);
  const [a, b] = tf.tidy(() => [layer.apply(x), groupNormRef(x, p.get('gn.weight'), p.get('gn.bias'), 20)]);
  t.true(scaledErr(a.dataSync(), b.dataSync()) < 1e-5);
  tf.dispose([a, b, x]);
  p.dispose();
});
