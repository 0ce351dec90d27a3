'use strict';
// The native Add / Sub / Multiply / RealDiv / Maximum / Minimum / Relu / Step / Sum cpu kernels
// against tfjs's own, bit for bit: one float32 operation per element (JavaScript's Math.max /
// Math.min rules for NaN and signed zeros), and sums in double in tfjs's order, rounded once.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { ops } = R;
const { prng } = require('../dist/util/prng');
const { MIN_NATIVE_ELEMENTS } = require('../dist/accel/kernels/elementwise');

const { countAddonCalls, bothWays: both, sameBothWays: same } = require('./helpers/native-vs-tfjs');

// The addon's calls, to show the comparisons below do run the native kernels.
const { addon, counted } = countAddonCalls(['binaryOp', 'unaryOp', 'reduceSum']);

/**
 * As `same`, but any NaN counts as any other: where several NaNs meet in one sum, which one's
 * bits come out depends on the operand order V8's compiled code happens to use.
 */
function sameUpToNaN(t, f, what) {
  const canonical = (r) => {
    if (!r.bytes) return r;
    const v = floats(r);
    return { ...r, bytes: Buffer.from(v.map((x) => (Number.isNaN(x) ? NaN : x)).buffer) };
  };
  const [a, b] = both(f).map(canonical);
  t.deepEqual(a, b, what);
  return a;
}

const floats = (r) => new Float32Array(new Uint8Array(r.bytes).buffer.slice(0));
const size = (shape) => shape.reduce((p, d) => p * d, 1);

/**
 * Random values with, when `special`, NaN, ±Infinity, ±0, huge values (sums and products
 * overflow) and subnormals mixed in.
 */
function input(seed, shape, special = true) {
  const r = prng(seed);
  const v = Float32Array.from({ length: size(shape) }, () => {
    const k = special ? r.int(0, 30) : 99;
    if (k === 0) return NaN;
    if (k === 1) return Infinity;
    if (k === 2) return -Infinity;
    if (k === 3) return -0;
    if (k === 4) return 0;
    if (k === 5) return r() < 0.5 ? 3e38 : -3e38;
    if (k === 6) return 1e-40;
    if (k === 7) return r.int(-2, 3); // ties for max / min
    return r.uniform(-3, 3);
  });
  return tf.tensor(v, shape, 'float32');
}

// [aShape, bShape]: equal shapes, scalars, per-channel vectors, size-1 dimensions anywhere,
// both sides broadcast, empty tensors, odd sizes around the threshold.
const PAIRS = [
  [[], []], [[1], [1]], [[7], [7]], [[3, 5], [3, 5]], [[511], [511]], [[512], [512]], [[1023], [1023]],
  [[2, 3, 4, 5], [2, 3, 4, 5]], [[4, 16, 16, 33], [4, 16, 16, 33]], [[4, 9, 9, 5], []], [[], [4, 9, 9, 5]],
  [[4, 9, 9, 5], [1]], [[1, 1, 1, 1], [4, 9, 9, 5]], [[4, 8, 8, 33], [33]], [[33], [4, 8, 8, 33]],
  [[4, 8, 8, 33], [1, 1, 1, 33]], [[4, 100, 4], [4, 100, 1]], [[1, 1, 1], [4, 100, 4]], [[4, 1, 4], [4, 100, 4]],
  [[5, 1, 7, 3], [1, 6, 1, 3]], [[9, 1], [1, 70]], [[2, 300], [300]], [[3, 1, 257], [3, 2, 257]],
  [[0], [0]], [[0, 5], [5]], [[3, 0], [1]], [[600, 0], [600, 1]], [[2, 0, 700], [700]],
];
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];

for (const [as, bs] of PAIRS) {
  test(`${BINARY.join(', ')} of [${as}] and [${bs}] equal tfjs's kernels bit for bit`, (t) => {
    const seed = [...as, 17, ...bs].reduce((p, d) => p * 31 + d, 5);
    const a = input(seed, as);
    const b = input(seed + 1, bs);
    const n = size(ops.broadcastShape(as, bs));
    for (const op of BINARY) {
      const d = counted(() => same(t, () => tf[op](a, b), op));
      t.is(d.binaryOp, n >= MIN_NATIVE_ELEMENTS.binary ? 1 : 0, `${op}: native call count`);
    }
    tf.dispose([a, b]);
  });
}

test('binary results follow JavaScript: NaN bits, Math.max / Math.min of NaN and signed zeros, overflow', (t) => {
  const n = 1024;
  const bits = (u) => new Float32Array(new Uint32Array([u]).buffer)[0];
  // Three rows of cases cycled over n elements (n above the native threshold).
  const cases = [[bits(0x7fc12345), 1], [2, bits(0xffc54321)], [-0, 0], [0, -0], [-0, -0], [3e38, 3e38], [Infinity, -Infinity], [0, 0], [1, -0]];
  const a = tf.tensor(Float32Array.from({ length: n }, (_, i) => cases[i % cases.length][0]));
  const b = tf.tensor(Float32Array.from({ length: n }, (_, i) => cases[i % cases.length][1]));
  for (const op of BINARY) same(t, () => tf[op](a, b), op);
  const word = (r, i) => new Uint32Array(floats(r).buffer)[i];
  const [max] = both(() => tf.maximum(a, b));
  const [min] = both(() => tf.minimum(a, b));
  const [sum] = both(() => tf.add(a, b));
  t.is(word(max, 0), 0xffc00000, "Math.max with a NaN gives V8's default NaN");
  t.is(word(max, 2), 0, 'max(-0, +0) = +0');
  t.is(word(min, 3), 0x80000000, 'min(+0, -0) = -0');
  t.is(word(sum, 0), 0x7fc12345, 'a NaN operand keeps its bits through +');
  t.is(word(sum, 1), 0xffc54321, '… from either side');
  t.is(floats(sum)[5], Infinity, '3e38 + 3e38 overflows to Infinity in float32');
  t.true(Number.isNaN(floats(sum)[6]), 'Infinity - Infinity is NaN');
  tf.dispose([a, b]);
});

const UNARY_SHAPES = [[0], [1], [255], [256], [300], [4, 64, 64, 8], [3, 7, 11, 13]];

for (const shape of UNARY_SHAPES) {
  test(`relu and step (alpha 0, -1, 0.3) of [${shape}] equal tfjs's kernels bit for bit`, (t) => {
    const x = input(size(shape) + 3, shape);
    const native = size(shape) >= MIN_NATIVE_ELEMENTS.unary ? 1 : 0;
    t.is(counted(() => same(t, () => tf.relu(x), 'relu')).unaryOp, native);
    for (const alpha of [0, -1, 0.3]) t.is(counted(() => same(t, () => tf.step(x, alpha), `step ${alpha}`)).unaryOp, native);
    x.dispose();
  });
}

test("relu and step: -0, NaN and alpha's float32 rounding as tfjs", (t) => {
  const x = tf.tensor(Float32Array.from({ length: 512 }, (_, i) => [NaN, -0, 0, -1e-40, 1e-40, -Infinity, Infinity, 2][i % 8]));
  const relu = floats(same(t, () => tf.relu(x), 'relu'));
  t.true(Object.is(relu[1], 0), 'relu(-0) = +0');
  t.is(new Uint32Array(relu.buffer)[0], 0xffc00000, 'relu(NaN): Math.max(0, NaN)');
  const step = floats(same(t, () => tf.step(x, 0.1), 'step 0.1'));
  t.is(step[1], Math.fround(0.1));
  t.is(step[4], 1);
  t.is(new Uint32Array(step.buffer)[0], 0x7fc00000, "step(NaN) is JavaScript's NaN");
  x.dispose();
});

// [shape, axis, keepDims]: leading axes (bias gradients), trailing axes, all, a middle run,
// size-1 axes between reduced ones, negative axes, no axes, empty tensors.
const SUMS = [
  [[4, 32, 32, 36], [0, 1, 2]], [[4, 32, 32, 36], [0, 1, 2], true], [[4, 9216, 4], null], [[4, 9216, 4], null, true],
  [[4, 9216, 4], undefined], [[5, 7], 1], [[5, 7], -1, true], [[3, 1000], 1], [[1000, 3], 0], [[6, 50, 3], 1],
  [[6, 50, 33], [1], true], [[4, 1, 5], [0, 2]], [[1, 7, 1, 9], [1, 3]], [[2, 3, 4, 5], [-3, -2]], [[7], 0], [[1], 0],
  [[], null], [[3, 4], []], [[0, 5], 0], [[5, 0], 1], [[5, 0], 0, true], [[2, 0, 3], [0, 1]], [[3, 257, 17], [0, 1]],
  [[300000], 0],
];

for (const [shape, axis, keepDims] of SUMS) {
  test(`sum of [${shape}] over ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''} equals tfjs's kernel bit for bit`, (t) => {
    for (const special of [false, true]) {
      const x = input(size(shape) + 11, shape, special);
      const d = counted(() => (special ? sameUpToNaN : same)(t, () => tf.sum(x, axis, keepDims), special ? 'with NaN, ±Infinity, ±0' : 'finite'));
      t.is(d.reduceSum, 1, 'native');
      x.dispose();
    }
  });
}

test('sums of many values of mixed magnitude keep every bit of the double sum (no float32 accumulation)', (t) => {
  // 1 + 1e-8 · 2^20 in float32 steps would stay 1; in double it is 1.0105.
  const x = tf.tensor(Float32Array.from({ length: 2 ** 20 + 1 }, (_, i) => (i === 0 ? 1 : 1e-8)));
  const s = same(t, () => tf.sum(x), 'long row');
  t.true(Math.abs(floats(s)[0] - (1 + 2 ** 20 * Math.fround(1e-8))) < 1e-6);
  const c = tf.tensor(Float32Array.from({ length: 2 ** 16 * 8 }, (_, i) => (i < 8 ? 1 : 1e-8)), [2 ** 16, 8]);
  same(t, () => tf.sum(c, 0), 'per-channel');
  tf.dispose([x, c]);
});

test('the native kernels give the same bits whatever the thread count', (t) => {
  const x = input(1, [4, 64, 64, 32], false);
  const b = input(2, [32], false);
  const run = () => tf.tidy(() => [tf.sum(x, [0, 1, 2]), tf.sum(x, -1), tf.sum(x), tf.relu(tf.add(x, b)), tf.mul(x, x)].map((r) => r.dataSync().slice()));
  const was = ops.numThreads();
  ops.setNumThreads(1);
  const one = run();
  ops.setNumThreads(3);
  const three = run();
  ops.setNumThreads(was);
  t.deepEqual(one, three);
  tf.dispose([x, b]);
});

test('uncovered cases fall through to tfjs: int32, bool, complex, non-contiguous sum axes, shapes that do not broadcast', (t) => {
  const n = 1024;
  const ai = tf.tensor(Int32Array.from({ length: n }, (_, i) => i - 500), [n], 'int32');
  const bi = tf.tensor(Int32Array.from({ length: n }, (_, i) => (i % 7) - 3), [n], 'int32');
  const xb = tf.tensor(Uint8Array.from({ length: n }, (_, i) => i % 3 === 0), [n], 'bool');
  const x = input(3, [8, 16, 8], false);
  const y = input(4, [8, 16, 8], false);
  const c = tf.complex(x, y);
  const d = counted(() => {
    for (const op of BINARY) same(t, () => tf[op](ai, bi), `int32 ${op}`);
    same(t, () => tf.relu(ai), 'int32 relu');
    same(t, () => tf.step(ai, 0), 'int32 step');
    same(t, () => tf.sum(ai), 'int32 sum');
    same(t, () => tf.sum(xb), 'bool sum');
    same(t, () => tf.real(tf.add(c, c)), 'complex add');
    same(t, () => tf.real(tf.mul(c, c)), 'complex mul');
    same(t, () => tf.sum(x, [0, 2]), 'sum over axes 0 and 2 of three');
    same(t, () => tf.sum(x, [0, 2], true), '… keepDims');
    const bad = same(t, () => tf.add(x, tf.zeros([16])), 'shapes that do not broadcast');
    t.is(bad.error, 'Error');
    const badAxis = same(t, () => tf.sum(x, 3), 'axis out of range');
    t.truthy(badAxis.error);
  });
  t.deepEqual(d, { binaryOp: 0, unaryOp: 0, reduceSum: 0 });
  // Below the thresholds tfjs computes (its JavaScript loop is as fast there).
  const small = input(5, [MIN_NATIVE_ELEMENTS.binary - 1]);
  const ds = counted(() => {
    same(t, () => tf.mul(small, small), 'small mul');
    same(t, () => tf.relu(small.slice(0, MIN_NATIVE_ELEMENTS.unary - 1)), 'small relu');
  });
  t.deepEqual(ds, { binaryOp: 0, unaryOp: 0, reduceSum: 0 });
  tf.dispose([ai, bi, xb, x, y, c, small]);
});

test('gradients through tf.grads of an expression with every kernel are the same bits both ways', (t) => {
  const x = input(6, [4, 16, 16, 33], false);
  const w = input(7, [33], false);
  const b = input(8, [1, 1, 1, 33], false);
  const f = (xv, wv, bv) => {
    const h = tf.relu(tf.add(tf.mul(xv, wv), bv));
    const g = tf.maximum(tf.sub(h, tf.div(xv, 3)), tf.minimum(xv, 0.5));
    return tf.sum(tf.mul(g, g));
  };
  const grads = tf.grads(f);
  const d = counted(() => {
    for (let i = 0; i < 3; i++) same(t, () => grads([x, w, b])[i], `d/d${'xwb'[i]}`);
    same(t, () => f(x, w, b), 'value');
  });
  t.true(d.binaryOp > 20 && d.unaryOp >= 3 && d.reduceSum >= 3, JSON.stringify(d));
  tf.dispose([x, w, b]);
});

test('a small net trains to the same losses, bit for bit, with the native elementwise and sum kernels', (t) => {
  // Only elementwise ops and sums (no matMul / conv, whose native kernels sum in another order).
  const run = (native) => {
    R.useNativeCpuKernels(native);
    const x = input(9, [64, 40], false);
    const target = input(10, [64, 40], false);
    const w = tf.variable(input(11, [40], false));
    const bias = tf.variable(tf.zeros([40]));
    const opt = tf.train.sgd(0.01);
    const losses = [];
    for (let step = 0; step < 5; step++) {
      const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.relu(tf.add(tf.mul(x, w), bias)), target))), true);
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    tf.dispose([x, target, w, bias]);
    opt.dispose();
    return losses;
  };
  const native = run(true);
  const own = run(false);
  R.useNativeCpuKernels(true);
  t.true(native[4] < native[0]);
  t.deepEqual(native, own);
});

test('ops.binaryOp / unaryOp / reduceSum: results, argument checks, inputs untouched', (t) => {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const b = Float32Array.from([10, 20, 30]);
  const copies = [a.slice(), b.slice()];
  t.deepEqual([...ops.binaryOp('add', a, [2, 3], b, [3])], [11, 22, 33, 14, 25, 36]);
  t.deepEqual([...ops.binaryOp('sub', b, [3], a, [2, 3])], [9, 18, 27, 6, 15, 24]);
  t.deepEqual([...ops.binaryOp('mul', a, [2, 3], Float32Array.of(2), [])], [2, 4, 6, 8, 10, 12]);
  t.deepEqual([...ops.binaryOp('max', a, [2, 1, 3], b.subarray(0, 2), [2, 1])], [10, 10, 10, 20, 20, 20, 10, 10, 10, 20, 20, 20]);
  t.deepEqual(ops.broadcastShape([2, 1, 3], [2, 1]), [2, 2, 3]);
  t.is(ops.broadcastShape([2, 3], [2]), undefined);
  t.deepEqual([...ops.unaryOp('relu', Float32Array.of(-1, 0, 2))], [0, 0, 2]);
  t.deepEqual([...ops.unaryOp('step', Float32Array.of(-1, 0, 2), -0.5)], [-0.5, -0.5, 1]);
  t.deepEqual([...ops.reduceSum(a, { outer: 1, reduce: 2, inner: 3 })], [5, 7, 9]);
  t.deepEqual([...ops.reduceSum(a, { outer: 2, reduce: 3, inner: 1 })], [6, 15]);
  t.deepEqual(ops.reduceSumGeometry([4, 8, 8, 32], [0, 1, 2]), { outer: 1, reduce: 256, inner: 32 });
  t.deepEqual(ops.reduceSumGeometry([4, 8, 8, 32], [-1]), { outer: 256, reduce: 32, inner: 1 });
  t.deepEqual(ops.reduceSumGeometry([4, 1, 8, 32], [0, 2]), { outer: 1, reduce: 32, inner: 32 });
  t.deepEqual(ops.reduceSumGeometry([3, 4, 5], [1]), { outer: 3, reduce: 4, inner: 5 });
  t.is(ops.reduceSumGeometry([3, 4, 5], [0, 2]), undefined);
  t.is(ops.reduceSumGeometry([3, 4, 5], [1, 1]), undefined);
  t.is(ops.reduceSumGeometry([3, 4, 5], [3]), undefined);
  t.deepEqual([a, b], copies);
  const bad = [
    [() => ops.binaryOp('pow', a, [6], a, [6]), TypeError, /op: expected one of/],
    [() => ops.binaryOp('toString', a, [6], a, [6]), TypeError, /op/],
    [() => ops.binaryOp('add', [1, 2], [2], a, [6]), TypeError, /a: expected a Float32Array/],
    [() => ops.binaryOp('add', a, [5], a, [6]), RangeError, /a: expected 5 elements/],
    [() => ops.binaryOp('add', a, [2, 3], b.subarray(0, 2), [2]), RangeError, /do not broadcast/],
    [() => ops.binaryOp('add', a, [6, -1], a, [6]), RangeError, /aShape\[1\]/],
    [() => ops.binaryOp('add', a, [6], a, 6), TypeError, /bShape/],
    [() => ops.unaryOp('gelu', a), TypeError, /op: expected one of/],
    [() => ops.unaryOp('step', a, '1'), TypeError, /alpha/],
    [() => ops.unaryOp('relu', new Float64Array(3)), TypeError, /x: expected a Float32Array/],
    [() => ops.reduceSum(a, { outer: 2, reduce: 2, inner: 2 }), RangeError, /x: expected 8 elements/],
    [() => ops.reduceSum(a, { outer: 6, reduce: -1, inner: -1 }), RangeError, /geometry.reduce/],
    [() => ops.reduceSum(a, null), TypeError, /geometry/],
  ];
  for (const [f, type, message] of bad) t.throws(f, { instanceOf: type, message });
  // The addon itself refuses what would overrun memory.
  t.throws(() => addon.binaryOp(0, a, Float64Array.of(7), a, Float64Array.of(6)), { instanceOf: RangeError });
  t.throws(() => addon.binaryOp(9, a, Float64Array.of(6), a, Float64Array.of(6)), { instanceOf: RangeError });
  t.throws(() => addon.reduceSum(a, 2, 2, 2), { instanceOf: RangeError });
});

test('every covered kernel is listed among the native cpu kernels', (t) => {
  const { kernels } = R.nativeCpuKernels();
  for (const k of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'Relu', 'Step', 'Sum']) t.true(kernels.includes(k), k);
});
