'use strict';
// The *Async ops read their inputs on a worker thread: a caller that detaches (transfers) or
// overwrites its buffers while they run must not change the result or crash the process.
const test = require('ava');
const { ops } = require('..');
const { prng } = require('../dist/util/prng');

function boxesOf(r, n, size) {
  const b = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = r() * size, y = r() * size, w = 4 + r() * 60, h = 4 + r() * 60;
    b.set([x, y, x + w, y + h], 4 * i);
  }
  return b;
}

test('batchedNmsAsync: buffers detached and overwritten while it runs leave its result unchanged', async (t) => {
  const r = prng(11);
  for (let round = 0; round < 20; round++) {
    const n = 4000;
    const boxes = boxesOf(r, n, 500);
    const scores = Float32Array.from({ length: n }, () => r());
    const groups = Int32Array.from({ length: n }, () => Math.floor(r() * 20));
    const expected = ops.batchedNms(boxes, scores, groups, 0.5);
    const pending = ops.batchedNmsAsync(boxes, scores, groups, 0.5);
    structuredClone(boxes.buffer, { transfer: [boxes.buffer] }); // detaches boxes; the clone is garbage
    t.is(boxes.length, 0);
    scores.fill(NaN);
    groups.fill(-1);
    t.deepEqual(await pending, expected);
  }
});

test('postprocessAsync: level buffers detached while it runs leave its result unchanged', async (t) => {
  const r = prng(12);
  const k = 8, n = 3000;
  const anchors = boxesOf(r, n, 300);
  const logits = Float32Array.from({ length: n * k }, () => r() * 8 - 6);
  const deltas = Float32Array.from({ length: n * 4 }, () => r() * 0.4 - 0.2);
  const expected = ops.postprocess([{ logits, deltas, anchors }], k, [[300, 300]]);
  const pending = ops.postprocessAsync([{ logits, deltas, anchors }], k, [[300, 300]]);
  for (const a of [logits, deltas, anchors]) structuredClone(a.buffer, { transfer: [a.buffer] });
  const got = await pending;
  t.is(got.length, 1);
  t.deepEqual(got[0], expected[0]);
});
