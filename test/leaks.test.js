'use strict';
// 10,000 calls of each op, sync and async: resident memory stays flat and, for the tfjs kernels,
// the tensor count does not move.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const ops = require('../dist/ops');
const { rng, randomBoxes } = require('./helpers/reference');

const CALLS = 10000;
const r = rng(60);
const boxes = randomBoxes(r, 50, 200, 5, 80);
const scores = Float32Array.from({ length: 50 }, () => r());
const groups = Int32Array.from({ length: 50 }, (_, i) => i % 4);
const logits = Float32Array.from({ length: 50 * 8 }, () => r.uniform(-5, 5));
const labels = Int32Array.from({ length: 50 }, (_, i) => (i % 9) - 2);
const anchors = ops.generateAnchors({ height: 64, width: 64 }).anchors;
const levels = [{ logits: new Float32Array((anchors.length / 4) * 3).fill(-1), deltas: new Float32Array(anchors.length), anchors }];

const SYNC = {
  sigmoidFocalLoss: () => ops.sigmoidFocalLoss(logits, labels, 8),
  focalLossStar: () => ops.focalLossStar(logits, labels, 8),
  generateAnchors: () => ops.generateAnchors({ height: 64, width: 64 }),
  boxIou: () => ops.boxIou(boxes, boxes),
  encodeDecode: () => ops.decodeBoxes(boxes.map((v, i) => v + (i % 4 > 1 ? 1 : 0)), ops.encodeBoxes(boxes.map((v, i) => v + (i % 4 > 1 ? 1 : 0)), boxes.map((v, i) => v + (i % 4 > 1 ? 1 : 0)))),
  matchAnchors: () => ops.matchAnchors(anchors, boxes.subarray(0, 20)),
  retinanetTargets: () => ops.retinanetTargets(anchors, boxes.subarray(0, 20).map((v, i) => v + (i % 4 > 1 ? 1 : 0)), new Int32Array(5)),
  batchedNms: () => ops.batchedNms(boxes, scores, groups, 0.5),
  postprocess: () => ops.postprocess(levels, 3, [[64, 64]]),
};

function rssGrowthMiB(fn) {
  for (let i = 0; i < 500; i++) fn(); // warm up allocators and JIT
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < CALLS; i++) fn();
  global.gc?.();
  return (process.memoryUsage().rss - before) / 2 ** 20;
}

for (const [name, fn] of Object.entries(SYNC)) {
  test(`${CALLS} sync calls of ${name} keep resident memory flat`, (t) => {
    const growth = rssGrowthMiB(fn);
    t.true(growth < 64, `RSS grew ${growth.toFixed(1)} MiB`);
  });
}

test(`${CALLS} async calls (nmsAsync, batchedNmsAsync, postprocessAsync) keep memory flat and agree with sync`, async (t) => {
  const want = Array.from(ops.batchedNms(boxes, scores, groups, 0.5));
  const before = process.memoryUsage().rss;
  for (let i = 0; i < CALLS; i += 100) {
    const batch = [];
    for (let j = 0; j < 100; j++) {
      batch.push(j % 3 === 0 ? ops.nmsAsync(boxes, scores, 0.5) : j % 3 === 1
        ? ops.batchedNmsAsync(boxes, scores, groups, 0.5) : ops.postprocessAsync(levels, 3, [[64, 64]]));
      if (j % 10 === 0) t.deepEqual(Array.from(ops.batchedNms(boxes, scores, groups, 0.5)), want); // interleaved sync calls
    }
    const res = await Promise.all(batch);
    res.forEach((x, j) => { if (j % 3 === 1) t.deepEqual(Array.from(x), want); });
  }
  const growth = (process.memoryUsage().rss - before) / 2 ** 20;
  t.true(growth < 96, `RSS grew ${growth.toFixed(1)} MiB`);
});

test(`${CALLS / 10} tidy steps of 4 tfjs kernels (loss with gradient, matching, NMS, conv with gradient) leave the tensor count unchanged`, (t) => {
  const x = tf.tensor2d(logits, [50, 8]);
  const l = tf.tensor1d(labels, 'int32');
  const b = tf.tensor2d(boxes, [50, 4]);
  const s = tf.tensor1d(scores);
  const img = tf.randomNormal([1, 6, 6, 3]);
  const w = tf.randomNormal([3, 3, 3, 4]);
  const count = tf.memory().numTensors;
  for (let i = 0; i < CALLS / 10; i++) {
    tf.tidy(() => {
      tf.grad((z) => R.sigmoidFocalLoss(z, l))(x);
      R.matchAnchors(b, b.slice([0, 0], [5, 4]));
      R.nms(b, s, 0.5);
      tf.grad((f) => tf.conv2d(img, f, 1, 'same').sum())(w);
    });
  }
  t.is(tf.memory().numTensors, count);
  tf.dispose([x, l, b, s, img, w]);
});
