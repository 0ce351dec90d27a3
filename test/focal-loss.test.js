'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, focalLossRef, focalLossStarRef, maxRelErr, snapshot } = require('./helpers/reference');

function problem(seed, n, k, { ignoreRate = 0.1, fgRate = 0.05, spread = 8 } = {}) {
  const r = rng(seed);
  const logits = new Float32Array(n * k);
  for (let i = 0; i < logits.length; i++) logits[i] = r.uniform(-spread, spread);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    labels[i] = u < fgRate ? r.int(0, k) : u < fgRate + ignoreRate ? -2 : -1;
  }
  return { logits, labels };
}

function gradErr(grad, ref) {
  // Relative to the largest gradient: elements near 0 only need absolute accuracy.
  let scale = 0;
  for (const g of ref) scale = Math.max(scale, Math.abs(g));
  let e = 0;
  for (let i = 0; i < grad.length; i++) e = Math.max(e, Math.abs(grad[i] - ref[i]));
  return e / scale;
}

for (const gamma of [0, 0.5, 1, 2, 5]) {
  for (const alpha of [0.25, null]) {
    test(`sigmoidFocalLoss matches eq. 5 and eq. 10 in float64 (gamma ${gamma}, alpha ${alpha})`, (t) => {
      const k = 7;
      const { logits, labels } = problem(100 + gamma * 10, 300, k);
      const [logits0, labels0] = snapshot(logits, labels);
      const got = ops.sigmoidFocalLoss(logits, labels, k, { gamma, alpha });
      const ref = focalLossRef(logits, labels, k, { gamma, alpha });
      t.true(Math.abs(got.loss - ref.loss) / ref.loss < 2e-6, `loss ${got.loss} vs ${ref.loss}`);
      t.true(gradErr(got.grad, ref.grad) < 2e-6, `grad error ${gradErr(got.grad, ref.grad)}`);
      t.deepEqual(logits, logits0);
      t.deepEqual(labels, labels0);
    });
  }
}

for (const [gamma, beta] of [[2, 1], [4, 0], [1, -0.5], [0.5, 2]]) {
  test(`focalLossStar matches eq. 6-8 and eq. 11 (gamma ${gamma}, beta ${beta})`, (t) => {
    const k = 5;
    const { logits, labels } = problem(7 + gamma, 250, k);
    for (const alpha of [0.25, null]) {
      const got = ops.focalLossStar(logits, labels, k, { gamma, beta, alpha });
      const ref = focalLossStarRef(logits, labels, k, { gamma, beta, alpha });
      t.true(Math.abs(got.loss - ref.loss) / ref.loss < 2e-6, `loss ${got.loss} vs ${ref.loss}`);
      t.true(gradErr(got.grad, ref.grad) < 2e-6);
    }
  });
}

test('focalLossStar defaults are gamma 4, beta 0, alpha 0.25', (t) => {
  const { logits, labels } = problem(3, 40, 3);
  t.is(ops.focalLossStar(logits, labels, 3).loss, ops.focalLossStar(logits, labels, 3, { gamma: 4, beta: 0, alpha: 0.25 }).loss);
});

function finiteDifferenceCheck(t, lossFn, k, seed) {
  const { logits, labels } = problem(seed, 12, k, { ignoreRate: 0.2, fgRate: 0.3, spread: 3 });
  const { grad } = lossFn(logits, labels);
  const r = rng(seed + 1);
  for (let trial = 0; trial < 20; trial++) {
    const i = r.int(0, logits.length);
    const h = 1e-2;
    const up = logits.slice();
    const down = logits.slice();
    up[i] += h;
    down[i] -= h;
    const fd = (lossFn(up, labels).loss - lossFn(down, labels).loss) / (up[i] - down[i]);
    t.true(Math.abs(fd - grad[i]) < 2e-3 * Math.max(1, Math.abs(grad[i])), `element ${i}: fd ${fd} vs grad ${grad[i]}`);
  }
}

for (const gamma of [0, 0.5, 1, 2, 5]) {
  test(`sigmoidFocalLoss gradient agrees with finite differences (gamma ${gamma})`, (t) => {
    finiteDifferenceCheck(t, (x, l) => ops.sigmoidFocalLoss(x, l, 4, { gamma, normalizer: 1 }), 4, 50 + gamma);
  });
}

test('focalLossStar gradient agrees with finite differences', (t) => {
  finiteDifferenceCheck(t, (x, l) => ops.focalLossStar(x, l, 4, { gamma: 2, beta: 1, normalizer: 1 }), 4, 77);
  finiteDifferenceCheck(t, (x, l) => ops.focalLossStar(x, l, 4, { gamma: 4, normalizer: 1 }), 4, 78);
});

test('gamma 0 is alpha-balanced cross entropy (eq. 3)', (t) => {
  const { logits, labels } = problem(9, 100, 6);
  let ce = 0;
  let fg = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 0) fg++;
    if (labels[i] === -2) continue;
    for (let j = 0; j < 6; j++) {
      const x = logits[i * 6 + j];
      const p = 1 / (1 + Math.exp(-x));
      ce += labels[i] === j ? -0.25 * Math.log(p) : -0.75 * Math.log(1 - p);
    }
  }
  const got = ops.sigmoidFocalLoss(logits, labels, 6, { gamma: 0 });
  t.true(Math.abs(got.loss - ce / fg) / (ce / fg) < 2e-6);
});

test('extreme logits (±100) give finite values with the right limits', (t) => {
  const k = 2;
  const logits = new Float32Array([100, -100, -100, 100, 100, 100, -100, -100]);
  const labels = new Int32Array([0, 0, 1, -1]);
  for (const gamma of [0, 0.5, 2, 5]) {
    const { loss, grad } = ops.sigmoidFocalLoss(logits, labels, k, { gamma, normalizer: 1 });
    t.true(Number.isFinite(loss));
    t.true(grad.every(Number.isFinite));
    // Each anchor: one confidently right term (0 loss, 0 grad) or confidently wrong (100 alpha_t, grad -+alpha_t).
    // Anchor 0: target 0 at +100 (right), class 1 at -100 (right): ~0.
    // Anchor 1: target 0 at -100 (wrong: 0.25 * 100, grad -0.25), class 1 at +100 (wrong: 0.75 * 100, grad 0.75).
    // Anchor 2: target 1 at +100 (right), class 0 at +100 (wrong: 0.75 * 100, grad 0.75).
    // Anchor 3: background, both at -100 (right).
    t.true(Math.abs(loss - (25 + 75 + 75)) < 1e-3, `gamma ${gamma}: loss ${loss}`);
    const want = [0, 0, -0.25, 0.75, 0.75, 0, 0, 0];
    want.forEach((w, i) => t.true(Math.abs(grad[i] - w) < 1e-6, `gamma ${gamma} grad[${i}] ${grad[i]} vs ${w}`));
  }
  const star = ops.focalLossStar(logits, labels, k, { gamma: 2, beta: 1, normalizer: 1 });
  t.true(Number.isFinite(star.loss) && star.grad.every(Number.isFinite));
  // Wrong terms: alpha_t * (2 * 100 - 1) / 2 each.
  t.true(Math.abs(star.loss - (0.25 + 0.75 + 0.75) * 99.5) < 1e-3, `FL* ${star.loss}`);
});

test('default normalizer is the number of foreground anchors, at least 1', (t) => {
  const { logits, labels } = problem(11, 200, 4);
  const fg = labels.filter((l) => l >= 0).length;
  const a = ops.sigmoidFocalLoss(logits, labels, 4);
  const b = ops.sigmoidFocalLoss(logits, labels, 4, { normalizer: 1 });
  t.true(fg > 1);
  t.true(Math.abs(a.loss * fg - b.loss) / b.loss < 1e-12);
  const bg = new Int32Array(200).fill(-1);
  t.is(ops.sigmoidFocalLoss(logits, bg, 4).loss, ops.sigmoidFocalLoss(logits, bg, 4, { normalizer: 1 }).loss);
});

test('ignored anchors add nothing and get zero gradient', (t) => {
  const { logits, labels } = problem(12, 100, 3, { ignoreRate: 0.3 });
  const a = ops.sigmoidFocalLoss(logits, labels, 3);
  const changed = logits.slice();
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === -2) changed.fill(1e4, i * 3, i * 3 + 3);
  }
  const b = ops.sigmoidFocalLoss(changed, labels, 3);
  t.is(a.loss, b.loss);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === -2) t.deepEqual(Array.from(a.grad.subarray(i * 3, i * 3 + 3)), [0, 0, 0]);
  }
});

test('logits of ignored anchors are never read, so NaN there is harmless', (t) => {
  const { logits, labels } = problem(17, 40, 3, { ignoreRate: 0.5 });
  const row = labels.indexOf(-2);
  const nan = logits.slice();
  nan.fill(NaN, row * 3, row * 3 + 3);
  t.is(ops.sigmoidFocalLoss(nan, labels, 3).loss, ops.sigmoidFocalLoss(logits, labels, 3).loss);
});

test('grad: false returns only the loss; out receives the gradient', (t) => {
  const { logits, labels } = problem(13, 50, 3);
  const full = ops.sigmoidFocalLoss(logits, labels, 3);
  const lossOnly = ops.sigmoidFocalLoss(logits, labels, 3, { grad: false });
  t.is(lossOnly.loss, full.loss);
  t.false('grad' in lossOnly);
  const out = new Float32Array(logits.length).fill(7);
  const into = ops.sigmoidFocalLoss(logits, labels, 3, { out });
  t.is(into.grad, out);
  t.deepEqual(out, full.grad);
});

test('same bits for any thread count', (t) => {
  const { logits, labels } = problem(14, 20000, 20);
  const results = [1, 2, 3, 8].map((n) => {
    ops.setNumThreads(n);
    return [ops.sigmoidFocalLoss(logits, labels, 20), ops.sigmoidFocalLoss(logits, labels, 20, { gamma: 1.5 }),
      ops.focalLossStar(logits, labels, 20)];
  });
  ops.setNumThreads(0);
  for (const r of results.slice(1)) {
    for (let i = 0; i < 3; i++) {
      t.is(r[i].loss, results[0][i].loss);
      t.deepEqual(r[i].grad, results[0][i].grad);
    }
  }
});

test('10^8 terms are summed without losing precision', (t) => {
  // Every row is identical, so the total must be exactly rows x (one row's loss).
  const k = 100;
  const rows = 1e6;
  const logits = new Float32Array(rows * k).fill(-3.25);
  const labels = new Int32Array(rows).fill(-1);
  const big = ops.sigmoidFocalLoss(logits, labels, k, { grad: false, normalizer: 1 });
  const one = ops.sigmoidFocalLoss(logits.subarray(0, k), labels.subarray(0, 1), k, { grad: false, normalizer: 1 });
  t.true(Math.abs(big.loss / rows - one.loss) / one.loss < 1e-12, `${big.loss / rows} vs ${one.loss}`);
});

test('empty inputs give a zero loss and an empty gradient', (t) => {
  const r = ops.sigmoidFocalLoss(new Float32Array(0), new Int32Array(0), 80);
  t.is(r.loss, 0);
  t.is(r.grad.length, 0);
  t.is(ops.focalLossStar(new Float32Array(0), new Int32Array(0), 3).loss, 0);
});

test('bad arguments are TypeError / RangeError naming the argument, inputs unchanged', (t) => {
  const { logits, labels } = problem(15, 10, 3);
  const [l0, lab0] = snapshot(logits, labels);
  const fl = (...args) => () => ops.sigmoidFocalLoss(...args);
  t.throws(fl(Array.from(logits), labels, 3), { instanceOf: TypeError, message: /logits/ });
  t.throws(fl(new Float64Array(logits), labels, 3), { instanceOf: TypeError, message: /logits/ });
  t.throws(fl(logits, Array.from(labels), 3), { instanceOf: TypeError, message: /labels/ });
  t.throws(fl(logits, new Uint32Array(labels), 3), { instanceOf: TypeError, message: /labels/ });
  t.throws(fl(logits, labels, 0), { instanceOf: RangeError, message: /numClasses/ });
  t.throws(fl(logits, labels, 2.5), { instanceOf: RangeError, message: /numClasses/ });
  t.throws(fl(logits, labels, '3'), { instanceOf: TypeError, message: /numClasses/ });
  t.throws(fl(logits, labels, 4), { instanceOf: RangeError, message: /logits/ });
  t.throws(fl(logits.subarray(1), labels, 3), { instanceOf: RangeError, message: /logits/ });
  const badLabels = labels.slice();
  badLabels[4] = 3;
  t.throws(fl(logits, badLabels, 3), { instanceOf: RangeError, message: /labels\[4\] = 3/ });
  badLabels[4] = -3;
  t.throws(fl(logits, badLabels, 3), { instanceOf: RangeError, message: /labels\[4\] = -3/ });
  t.throws(fl(logits, labels, 3, { gamma: NaN }), { instanceOf: RangeError, message: /gamma/ });
  t.throws(fl(logits, labels, 3, { gamma: -1 }), { instanceOf: RangeError, message: /gamma/ });
  t.throws(fl(logits, labels, 3, { alpha: 1.5 }), { instanceOf: RangeError, message: /alpha/ });
  t.throws(fl(logits, labels, 3, { alpha: '0.25' }), { instanceOf: TypeError, message: /alpha/ });
  t.throws(fl(logits, labels, 3, { normalizer: 0 }), { instanceOf: RangeError, message: /normalizer/ });
  t.throws(fl(logits, labels, 3, { normalizer: Infinity }), { instanceOf: RangeError, message: /normalizer/ });
  t.throws(fl(logits, labels, 3, { gama: 2 }), { instanceOf: TypeError, message: /unknown option 'gama'/ });
  t.throws(fl(logits, labels, 3, 'fast'), { instanceOf: TypeError, message: /options/ });
  t.throws(fl(logits, labels, 3, { out: new Float32Array(5) }), { instanceOf: RangeError, message: /out/ });
  t.throws(fl(logits, labels, 3, { out: logits }), { instanceOf: RangeError, message: /out/ });
  t.throws(fl(logits, labels, 3, { device: 'tpu' }), { instanceOf: TypeError, message: /device/ });
  t.throws(() => ops.focalLossStar(logits, labels, 3, { gamma: 0 }), { instanceOf: RangeError, message: /gamma/ });
  t.throws(() => ops.focalLossStar(logits, labels, 3, { beta: NaN }), { instanceOf: RangeError, message: /beta/ });
  const row = labels.findIndex((l) => l !== -2);
  const nan = logits.slice();
  nan[row * 3 + 1] = NaN;
  t.throws(fl(nan, labels, 3), { instanceOf: RangeError, message: /non-finite/ });
  nan[row * 3 + 1] = -Infinity;
  t.throws(() => ops.focalLossStar(nan, labels, 3), { instanceOf: RangeError, message: /non-finite/ });
  t.deepEqual(logits, l0);
  t.deepEqual(labels, lab0);
});

test("device 'cuda' is a clear error where no CUDA build is present", (t) => {
  const { logits, labels } = problem(16, 4, 2);
  if (ops.devices().includes('cuda')) {
    t.pass('CUDA build present: covered by the CUDA tests');
    return;
  }
  t.throws(() => ops.sigmoidFocalLoss(logits, labels, 2, { device: 'cuda' }), { message: /CUDA/ });
});

test('the binding reads the loss parameters by name: each reaches its place, a missing or mistyped one is a TypeError', (t) => {
  const addon = require('../dist/runtime/addon').native();
  const logits = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3);
  const labels = Int32Array.from([0, -1, 2, -2]);
  const params = { numClasses: 3, star: false, useAlpha: true, alpha: 0.3, gamma: 1.5, beta: 0, normalizer: 2, grad: true };
  const [loss, grad] = addon.focalLoss(logits, labels, params);
  const ref = ops.sigmoidFocalLoss(logits, labels, 3, { alpha: 0.3, gamma: 1.5, normalizer: 2 });
  t.is(loss, ref.loss);
  t.deepEqual(Array.from(grad), Array.from(ref.grad));
  t.throws(() => addon.focalLoss(logits, labels, 3), { instanceOf: TypeError, message: /^params: expected an object/ });
  const { gamma, ...noGamma } = params;
  t.is(gamma, 1.5);
  t.throws(() => addon.focalLoss(logits, labels, noGamma), { instanceOf: TypeError, message: /^gamma: expected a number/ });
  t.throws(() => addon.focalLoss(logits, labels, { ...params, grad: 1 }), { instanceOf: TypeError, message: /^grad: expected a boolean/ });
  t.throws(() => addon.focalLoss(logits, labels, { ...params, numClasses: 2.5 }), { instanceOf: RangeError, message: /^numClasses/ });
});
