'use strict';
// The optimizer's update: native, with the bits of the JavaScript loop it replaced.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const ops = require('../dist/ops');
const { prng } = require('../dist/util/prng');

function randomArray(n, seed, scale = 1) {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale);
}

// The reference: the loop the Trainer used to run, JavaScript numbers into Float32Arrays.
function jsUpdate(p, g, vel, { learningRate: lr, momentum = 0.9, weightDecay = 1e-4, gradScale = 1 }) {
  const v = vel.slice(), next = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    v[i] = momentum * v[i] + (gradScale * g[i] + weightDecay * p[i]);
    next[i] = p[i] - lr * v[i];
  }
  return [next, v];
}

const bits = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);

for (const [n, opts] of [
  [1, { learningRate: 0.01 }],
  [1000, { learningRate: 0.02, momentum: 0.9, weightDecay: 1e-4, gradScale: 0.37 }],
  [300001, { learningRate: 1e-3, momentum: 0, weightDecay: 0 }],
  [70000, { learningRate: 3, momentum: 0.99, weightDecay: 0.5, gradScale: 1e-3 }],
]) {
  test(`sgdMomentumUpdate equals the JavaScript loop bit for bit: ${n} values, ${JSON.stringify(opts)}`, (t) => {
    const p = randomArray(n, 1, 10), g = randomArray(n, 2, 1e3), v = randomArray(n, 3);
    const [p0, g0, v0] = [p.slice(), g.slice(), v.slice()];
    const [wantP, wantV] = jsUpdate(p, g, v, opts);
    const [gotP, gotV] = ops.sgdMomentumUpdate(p, g, v, opts);
    t.deepEqual(bits(gotP), bits(wantP));
    t.deepEqual(bits(gotV), bits(wantV));
    t.deepEqual([p, g, v], [p0, g0, v0], 'the inputs are unchanged without out');
    // In place: the outputs may be the inputs.
    const [ip, iv] = ops.sgdMomentumUpdate(p, g, v, opts, { param: p, velocity: v });
    t.is(ip, p);
    t.is(iv, v);
    t.deepEqual(bits(p), bits(wantP));
    t.deepEqual(bits(v), bits(wantV));
  });
}

test('sumOfSquares is the JavaScript loop\'s sum, and chains over arrays exactly', (t) => {
  const a = randomArray(100003, 4, 50), b = randomArray(777, 5, 1e-3);
  let js = 0;
  for (const x of a) js += x * x;
  t.is(ops.sumOfSquares(a), js);
  for (const x of b) js += x * x;
  t.is(ops.sumOfSquares(b, ops.sumOfSquares(a)), js);
  t.is(ops.sumOfSquares(new Float32Array(0), 2.5), 2.5);
  // Non-finite values propagate, from x or from start (a chained gradient norm after a NaN).
  t.true(Number.isNaN(ops.sumOfSquares(new Float32Array([1, NaN, 2]))));
  t.true(Number.isNaN(ops.sumOfSquares(b, NaN)));
  t.is(ops.sumOfSquares(new Float32Array([Infinity])), Infinity);
  t.is(ops.sumOfSquares(b, Infinity), Infinity);
  t.throws(() => ops.sumOfSquares(b, '1'), { instanceOf: TypeError, message: /^start:/ });
});

test('bad arguments are refused and nothing is modified', (t) => {
  const p = randomArray(10, 1), g = randomArray(10, 2), v = randomArray(10, 3);
  const [p0, g0, v0] = [p.slice(), g.slice(), v.slice()];
  t.throws(() => ops.sgdMomentumUpdate(p, g.subarray(1), v, { learningRate: 0.1 }), { instanceOf: RangeError, message: /^grad:/ });
  t.throws(() => ops.sgdMomentumUpdate(p, g, new Float32Array(3), { learningRate: 0.1 }), { instanceOf: RangeError, message: /^velocity:/ });
  t.throws(() => ops.sgdMomentumUpdate(Array.from(p), g, v, { learningRate: 0.1 }), { instanceOf: TypeError, message: /^param:/ });
  t.throws(() => ops.sgdMomentumUpdate(p, g, v, {}), { instanceOf: TypeError, message: /^learningRate:/ });
  t.throws(() => ops.sgdMomentumUpdate(p, g, v, { learningRate: NaN }), { instanceOf: RangeError, message: /^learningRate:/ });
  t.throws(() => ops.sgdMomentumUpdate(p, g, v, { learningRate: 0.1, momentun: 0.9 }), { instanceOf: TypeError, message: /unknown option 'momentun'/ });
  t.throws(() => ops.sgdMomentumUpdate(p, g, v, { learningRate: 0.1 }, { velocity: new Float32Array(9) }), { instanceOf: RangeError, message: /^out.velocity:/ });
  t.throws(() => ops.sumOfSquares([1, 2]), { instanceOf: TypeError, message: /^x:/ });
  t.deepEqual([p, g, v], [p0, g0, v0]);
});

test('a Trainer step is the SGD rule applied to tf.variableGrads\' gradients, bit for bit (no weight decay on norm layers)', (t) => {
  const r = prng(11);
  const img = tf.tensor4d(Float32Array.from({ length: 2 * 64 * 64 * 3 }, () => r()), [2, 64, 64, 3]);
  const boxes = [new Float32Array([4, 6, 40, 44]), new Float32Array([20, 10, 60, 50])];
  const labels = [new Int32Array([0]), new Int32Array([1])];
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const trainer = new R.Trainer(m, { iterations: 10, learningRate: 0.01, warmupIterations: 0, clipGradNorm: 0.5 });
  const named = [...m.params.vars].filter(([, v]) => v.trainable);
  // The gradients the step will see (the forward pass is deterministic), then the rule by hand.
  const { grads } = tf.variableGrads(() => {
    const l = m.loss(img, boxes, labels);
    tf.dispose([l.classification, l.box]);
    return l.total;
  }, named.map(([, v]) => v));
  let sq = 0;
  for (const [, v] of named) for (const x of grads[v.name].dataSync()) sq += x * x;
  const gradScale = Math.sqrt(sq) > 0.5 ? 0.5 / Math.sqrt(sq) : 1;
  t.true(gradScale < 1, 'the clipping is exercised');
  // Norm layers' scales and shifts get no weight decay (weightDecayNorm's default, detectron2's).
  t.true(named.some(([k]) => m.params.normParams.has(k)), 'the preset has GroupNorm parameters');
  const want = new Map(named.map(([k, v]) => [k, jsUpdate(v.dataSync(), grads[v.name].dataSync(), new Float32Array(v.size),
    { learningRate: trainer.learningRateAt(0), momentum: 0.9, weightDecay: m.params.normParams.has(k) ? 0 : 1e-4, gradScale })[0]]));
  tf.dispose(Object.values(grads));
  const step = trainer.step(img, boxes, labels);
  t.is(step.gradNorm, Math.sqrt(sq));
  for (const [k, v] of named) t.deepEqual(bits(v.dataSync()), bits(want.get(k)), k);
  trainer.dispose();
  m.dispose();
  img.dispose();
});
