'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, randomBoxes, nmsRef, batchedNmsRef, snapshot } = require('./helpers/reference');

function clustered(r, objects, perObject, jitter = 0.1, offset = 0) {
  const n = objects * perObject;
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  for (let o = 0; o < objects; o++) {
    const w = r.uniform(10, 200), h = r.uniform(10, 200);
    const x = offset + r.uniform(0, 800), y = offset + r.uniform(0, 600);
    for (let k = 0; k < perObject; k++) {
      const i = o * perObject + k;
      const dx = r.uniform(-jitter, jitter) * w, dy = r.uniform(-jitter, jitter) * h;
      const sw = w * r.uniform(1 - jitter, 1 + jitter), sh = h * r.uniform(1 - jitter, 1 + jitter);
      boxes.set([x + dx, y + dy, x + dx + sw, y + dy + sh], i * 4);
      scores[i] = r();
    }
  }
  return { boxes, scores };
}

const same = (t, got, want, msg) => t.deepEqual(Array.from(got), want, msg);

test('nms equals brute-force greedy NMS: random, clustered, thresholds 0…1', (t) => {
  const r = rng(20);
  for (const thr of [0, 0.3, 0.5, 0.7, 1]) {
    const boxes = randomBoxes(r, 300, 600, 1, 200);
    const scores = new Float32Array(300).map(() => r());
    const [b0, s0] = snapshot(boxes, scores);
    same(t, ops.nms(boxes, scores, thr), nmsRef(boxes, scores, thr), `random, threshold ${thr}`);
    const c = clustered(r, 30, 20);
    same(t, ops.nms(c.boxes, c.scores, thr), nmsRef(c.boxes, c.scores, thr), `clustered, threshold ${thr}`);
    t.deepEqual([boxes, scores], [b0, s0]);
  }
});

test('large groups (the sorted sweep) equal brute force', (t) => {
  const r = rng(21);
  for (const thr of [0, 0.5]) {
    const c = clustered(r, 100, 30, 0.15);
    same(t, ops.nms(c.boxes, c.scores, thr), nmsRef(c.boxes, c.scores, thr), `3000 clustered, threshold ${thr}`);
    const boxes = randomBoxes(r, 2000, 4000, 1, 150);
    const scores = new Float32Array(2000).map(() => r());
    same(t, ops.nms(boxes, scores, thr), nmsRef(boxes, scores, thr), `2000 spread, threshold ${thr}`);
  }
  // Many tall thin boxes: wide x-range queries.
  const boxes = new Float32Array(4 * 1500);
  for (let i = 0; i < 1500; i++) {
    const x = r.uniform(0, 1000);
    boxes.set(i % 3 ? [x, 0, x + r.uniform(1, 5), 1000] : [x, r.uniform(0, 900), x + r.uniform(100, 600), 1000], 4 * i);
  }
  const scores = new Float32Array(1500).map(() => r());
  same(t, ops.nms(boxes, scores, 0.2), nmsRef(boxes, scores, 0.2), 'mixed widths');
});

test('identical boxes, equal scores (lower index wins), zero-area boxes, one box, none', (t) => {
  const box = [10, 10, 50, 60];
  const identical = new Float32Array([...box, ...box, ...box]);
  same(t, ops.nms(identical, new Float32Array([0.5, 0.9, 0.9]), 0.5), [1]);
  same(t, ops.nms(identical, new Float32Array([0.7, 0.7, 0.7]), 0.5), [0]);
  same(t, ops.nms(identical, new Float32Array([0.7, 0.7, 0.7]), 1), [0, 1, 2]);
  const zero = new Float32Array([5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 10, 10]);
  same(t, ops.nms(zero, new Float32Array([0.9, 0.8, 0.7]), 0), [0, 1, 2], 'empty boxes overlap nothing');
  same(t, ops.nms(new Float32Array(box), new Float32Array([0.1]), 0.5), [0]);
  same(t, ops.nms(new Float32Array(0), new Float32Array(0), 0.5), []);
});

test('an IoU exactly at the threshold is kept (suppress only when IoU > threshold)', (t) => {
  // [0,0,10,10] and [0,0,10,5]: IoU 0.5 exactly; [0,0,10,4]: 0.4.
  const boxes = new Float32Array([0, 0, 10, 10, 0, 0, 10, 5, 0, 0, 10, 4]);
  const scores = new Float32Array([0.9, 0.8, 0.7]);
  same(t, ops.nms(boxes, scores, 0.5), [0, 1]);
  same(t, ops.nms(boxes, scores, 0.4), [0]);
  same(t, ops.nms(boxes, scores, 0.3999), [0]);
});

test('coordinates of 1e6 work like small ones', (t) => {
  const r = rng(22);
  const c = clustered(r, 20, 15, 0.1, 1e6);
  same(t, ops.nms(c.boxes, c.scores, 0.5), nmsRef(c.boxes, c.scores, 0.5));
  const groups = new Int32Array(c.scores.length).map((_, i) => i % 3);
  same(t, ops.batchedNms(c.boxes, c.scores, groups, 0.5), batchedNmsRef(c.boxes, c.scores, groups, 0.5));
});

test('batchedNms equals nms per group, merged by score; groups never suppress each other', (t) => {
  const r = rng(23);
  const c = clustered(r, 40, 25);
  const n = c.scores.length;
  for (const groups of [
    new Int32Array(n).map(() => r.int(0, 80)),
    new Int32Array(n).map(() => r.int(-5, 5) * 1000003), // sparse ids: the sort path
    new Int32Array(n),
  ]) {
    const want = batchedNmsRef(c.boxes, c.scores, groups, 0.5);
    same(t, ops.batchedNms(c.boxes, c.scores, groups, 0.5), want);
    same(t, ops.batchedNms(c.boxes, c.scores, groups, 0.5, { maxOutput: 17 }), want.slice(0, 17));
  }
  const identical = new Float32Array([0, 0, 9, 9, 0, 0, 9, 9]);
  same(t, ops.batchedNms(identical, new Float32Array([0.5, 0.6]), new Int32Array([0, 1]), 0.1), [1, 0]);
});

test('scoreThreshold keeps only scores above it; maxOutput 0 keeps none', (t) => {
  const r = rng(24);
  const c = clustered(r, 10, 10);
  const groups = new Int32Array(100).map((_, i) => i % 4);
  const idx = Array.from({ length: 100 }, (_, i) => i).filter((i) => c.scores[i] > 0.5);
  const byGroup = new Map();
  for (const i of idx) (byGroup.get(groups[i]) ?? byGroup.set(groups[i], []).get(groups[i])).push(i);
  const want = [...byGroup.values()].flatMap((ix) => nmsRef(c.boxes, c.scores, 0.5, ix)).sort((a, b) => c.scores[b] - c.scores[a] || a - b);
  same(t, ops.batchedNms(c.boxes, c.scores, groups, 0.5, { scoreThreshold: 0.5 }), want);
  same(t, ops.nms(c.boxes, c.scores, 0.5, { maxOutput: 0 }), []);
});

test('async equals sync, with many calls in flight', async (t) => {
  const r = rng(25);
  const cases = Array.from({ length: 12 }, () => {
    const c = clustered(r, 30, 30);
    return { ...c, groups: new Int32Array(c.scores.length).map(() => r.int(0, 10)) };
  });
  const results = await Promise.all(cases.flatMap((c) => [
    ops.nmsAsync(c.boxes, c.scores, 0.5), ops.batchedNmsAsync(c.boxes, c.scores, c.groups, 0.5, { maxOutput: 50 }),
  ]));
  cases.forEach((c, i) => {
    t.deepEqual(results[2 * i], ops.nms(c.boxes, c.scores, 0.5));
    t.deepEqual(results[2 * i + 1], ops.batchedNms(c.boxes, c.scores, c.groups, 0.5, { maxOutput: 50 }));
  });
});

test('bad arguments: TypeError / RangeError naming the argument (async rejects)', async (t) => {
  const boxes = new Float32Array([0, 0, 1, 1, 0, 0, 2, 2]);
  const scores = new Float32Array([0.5, 0.6]);
  t.throws(() => ops.nms(boxes, scores.subarray(1), 0.5), { instanceOf: RangeError, message: /boxes/ });
  t.throws(() => ops.nms(boxes, [0.5, 0.6], 0.5), { instanceOf: TypeError, message: /scores/ });
  t.throws(() => ops.nms(boxes, new Float32Array([NaN, 1]), 0.5), { instanceOf: RangeError, message: /scores/ });
  t.throws(() => ops.nms(boxes, scores, NaN), { instanceOf: RangeError, message: /iouThreshold/ });
  t.throws(() => ops.nms(boxes, scores, 1.5), { instanceOf: RangeError, message: /iouThreshold/ });
  t.throws(() => ops.nms(new Float32Array([0, 0, -1, 1, 0, 0, 1, 1]), scores, 0.5), { instanceOf: RangeError, message: /boxes: box 0/ });
  t.throws(() => ops.nms(boxes, scores, 0.5, { maxOutput: -1 }), { instanceOf: RangeError, message: /maxOutput/ });
  t.throws(() => ops.nms(boxes, scores, 0.5, { maxout: 3 }), { instanceOf: TypeError, message: /maxout/ });
  t.throws(() => ops.batchedNms(boxes, scores, new Int32Array(3), 0.5), { instanceOf: RangeError, message: /groupIds/ });
  t.throws(() => ops.batchedNms(boxes, scores, null, 0.5), { instanceOf: TypeError, message: /groupIds/ });
  t.throws(() => ops.batchedNms(boxes, scores, new Float32Array(2), 0.5), { instanceOf: TypeError, message: /groupIds/ });
  await t.throwsAsync(ops.nmsAsync(boxes, scores, 2), { instanceOf: RangeError, message: /iouThreshold/ });
  await t.throwsAsync(ops.batchedNmsAsync(boxes, scores, [0, 1], 0.5), { instanceOf: TypeError, message: /groupIds/ });
});

test('the binding reads batched NMS parameters by name: each reaches its place, a missing or mistyped one is a TypeError', (t) => {
  const addon = require('../dist/runtime/addon').native();
  const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 21, 21, 31, 31]);
  const scores = new Float32Array([0.9, 0.8, 0.3, 0.7]);
  const params = { iouThreshold: 0.5, maxOutput: 2, useScoreThreshold: true, scoreThreshold: 0.5 };
  t.deepEqual(Array.from(addon.batchedNms(boxes, scores, null, params)), Array.from(ops.nms(boxes, scores, 0.5, { maxOutput: 2, scoreThreshold: 0.5 })));
  t.deepEqual(Array.from(addon.batchedNms(boxes, scores, null, params)), [0, 3]);
  t.throws(() => addon.batchedNms(boxes, scores, null, 0.5), { instanceOf: TypeError, message: /^params: expected an object/ });
  const { maxOutput, ...noMax } = params;
  t.is(maxOutput, 2);
  t.throws(() => addon.batchedNms(boxes, scores, null, noMax), { instanceOf: TypeError, message: /^maxOutput: expected a number/ });
  t.throws(() => addon.batchedNms(boxes, scores, null, { ...params, useScoreThreshold: 1 }), { instanceOf: TypeError, message: /^useScoreThreshold: expected a boolean/ });
});
