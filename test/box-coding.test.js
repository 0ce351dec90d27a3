'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, randomBoxes, encodeRef, decodeRef, snapshot } = require('./helpers/reference');

test('encodeBoxes equals the BoxCoder formulas in float64, with and without weights', (t) => {
  const r = rng(2);
  const anchors = randomBoxes(r, 500);
  const boxes = randomBoxes(r, 500);
  const [a0, b0] = snapshot(anchors, boxes);
  for (const w of [[1, 1, 1, 1], [10, 10, 5, 5]]) {
    const got = ops.encodeBoxes(anchors, boxes, { weights: w });
    for (let i = 0; i < 500; i++) {
      const want = encodeRef(anchors.subarray(4 * i, 4 * i + 4), boxes.subarray(4 * i, 4 * i + 4), w);
      want.forEach((x, c) => t.true(Math.abs(got[4 * i + c] - x) < 1e-5 * Math.max(1, Math.abs(x))));
    }
  }
  t.deepEqual(anchors, a0);
  t.deepEqual(boxes, b0);
});

test('decodeBoxes equals the BoxCoder formulas and inverts encodeBoxes', (t) => {
  const r = rng(3);
  // Sides 20…300: size ratios stay below 1000/16, where decoding would clamp.
  const anchors = randomBoxes(r, 400, 600, 20, 300);
  const boxes = randomBoxes(r, 400, 600, 20, 300);
  const w = [10, 10, 5, 5];
  const deltas = ops.encodeBoxes(anchors, boxes, { weights: w });
  const back = ops.decodeBoxes(anchors, deltas, { weights: w });
  for (let i = 0; i < back.length; i++) t.true(Math.abs(back[i] - boxes[i]) < 1e-3, `${i}: ${back[i]} vs ${boxes[i]}`);
  const rand = new Float32Array(1600).map(() => r.uniform(-2, 2));
  const got = ops.decodeBoxes(anchors, rand);
  for (let i = 0; i < 400; i++) {
    const want = decodeRef(anchors.subarray(4 * i, 4 * i + 4), rand.subarray(4 * i, 4 * i + 4));
    want.forEach((x, c) => t.true(Math.abs(got[4 * i + c] - x) < 1e-4 * Math.max(1, Math.abs(x))));
  }
});

test('decode clamps dw, dh at log(1000/16) and clips to the image', (t) => {
  const anchor = new Float32Array([100, 100, 110, 120]);
  const huge = ops.decodeBoxes(anchor, new Float32Array([0, 0, 50, 50]));
  t.true(Math.abs(huge[2] - huge[0] - 10 * (1000 / 16)) < 1e-2);
  t.true(Math.abs(huge[3] - huge[1] - 20 * (1000 / 16)) < 1e-2);
  t.true(huge.every(Number.isFinite));
  const clipped = ops.decodeBoxes(anchor, new Float32Array([0, 0, 50, 50]), { clip: [300, 200] });
  t.deepEqual(Array.from(clipped), [0, 0, 200, 300]);
});

test('empty inputs give empty results', (t) => {
  t.is(ops.encodeBoxes(new Float32Array(0), new Float32Array(0)).length, 0);
  t.is(ops.decodeBoxes(new Float32Array(0), new Float32Array(0)).length, 0);
});

test('bad arguments are rejected naming the argument', (t) => {
  const a = new Float32Array([0, 0, 10, 10]);
  t.throws(() => ops.encodeBoxes(new Float32Array([0, 0, 0, 10]), a), { instanceOf: RangeError, message: /^anchors: box 0/ });
  t.throws(() => ops.encodeBoxes(a, new Float32Array([0, 0, 10, 0])), { instanceOf: RangeError, message: /^boxes: box 0/ });
  t.throws(() => ops.encodeBoxes(a, new Float32Array(8)), { instanceOf: RangeError, message: /boxes/ });
  t.throws(() => ops.encodeBoxes(a, a, { weights: [1, 1, 1] }), { instanceOf: RangeError, message: /weights/ });
  t.throws(() => ops.encodeBoxes(a, a, { weights: [1, 1, 0, 1] }), { instanceOf: RangeError, message: /weights\[2\]/ });
  t.throws(() => ops.decodeBoxes(a, new Float32Array([0, NaN, 0, 0])), { instanceOf: RangeError, message: /deltas/ });
  t.throws(() => ops.decodeBoxes(a, new Float32Array(4), { clip: [10] }), { instanceOf: RangeError, message: /clip/ });
  t.throws(() => ops.decodeBoxes(a, new Float32Array(4), { clip: [10, -1] }), { instanceOf: RangeError, message: /clip\[1\]/ });
  t.throws(() => ops.decodeBoxes(a, new Int32Array(4)), { instanceOf: TypeError, message: /deltas/ });
});
