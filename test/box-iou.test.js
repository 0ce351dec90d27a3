'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, randomBoxes, iou64, snapshot } = require('./helpers/reference');

test('boxIou equals the brute-force float64 IoU', (t) => {
  const r = rng(1);
  const a = randomBoxes(r, 57);
  const b = randomBoxes(r, 31);
  const [a0, b0] = snapshot(a, b);
  const got = ops.boxIou(a, b);
  t.is(got.length, 57 * 31);
  for (let i = 0; i < 57; i++) {
    for (let j = 0; j < 31; j++) t.true(Math.abs(got[i * 31 + j] - iou64(a, 4 * i, b, 4 * j)) < 1e-6);
  }
  t.deepEqual(a, a0);
  t.deepEqual(b, b0);
});

test('IoU cases: identical 1, disjoint 0, half overlap 1/3, contained, empty boxes 0', (t) => {
  const a = new Float32Array([0, 0, 10, 10]);
  const b = new Float32Array([0, 0, 10, 10, 20, 20, 30, 30, 5, 0, 15, 10, 2, 2, 4, 4, 5, 5, 5, 5]);
  const got = Array.from(ops.boxIou(a, b));
  t.deepEqual(got.map((x) => Math.round(x * 1e6) / 1e6), [1, 0, Math.round(1e6 / 3) / 1e6, 0.04, 0]);
  t.deepEqual(Array.from(ops.boxIou(new Float32Array([3, 3, 3, 3]), new Float32Array([3, 3, 3, 3]))), [0]);
});

test('empty inputs give empty results', (t) => {
  t.is(ops.boxIou(new Float32Array(0), new Float32Array([0, 0, 1, 1])).length, 0);
  t.is(ops.boxIou(new Float32Array([0, 0, 1, 1]), new Float32Array(0)).length, 0);
});

test('bad boxes are rejected naming the argument', (t) => {
  const ok = new Float32Array([0, 0, 1, 1]);
  t.throws(() => ops.boxIou([0, 0, 1, 1], ok), { instanceOf: TypeError, message: /^a:/ });
  t.throws(() => ops.boxIou(ok, new Float32Array(5)), { instanceOf: RangeError, message: /^b:.*multiple of 4/ });
  t.throws(() => ops.boxIou(new Float32Array([0, 0, -1, 1]), ok), { instanceOf: RangeError, message: /^a: box 0/ });
  t.throws(() => ops.boxIou(ok, new Float32Array([0, NaN, 1, 1])), { instanceOf: RangeError, message: /^b: box 0/ });
});
