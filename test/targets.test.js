'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, randomBoxes, matchRef, encodeRef, snapshot } = require('./helpers/reference');

const { anchors } = ops.generateAnchors({ height: 192, width: 256 });
const n = anchors.length / 4;

function randomImage(r, m) {
  const boxes = randomBoxes(r, m, 192, 8, 150);
  const labels = new Int32Array(m).map(() => r.int(0, 80));
  return { boxes, labels };
}

test('retinanetTargets = match + labels + encoded boxes + foreground count', (t) => {
  const r = rng(7);
  const { boxes, labels } = randomImage(r, 8);
  const [a0, b0, l0] = snapshot(anchors, boxes, labels);
  const got = ops.retinanetTargets(anchors, boxes, labels, { weights: [1, 1, 1, 1] });
  const { matches } = matchRef(anchors, boxes);
  t.deepEqual(got.matches, matches);
  let fg = 0;
  for (let i = 0; i < n; i++) {
    const j = matches[i];
    if (j >= 0) {
      fg++;
      t.is(got.labels[i], labels[j]);
      const want = encodeRef(anchors.subarray(4 * i, 4 * i + 4), boxes.subarray(4 * j, 4 * j + 4));
      want.forEach((x, c) => t.true(Math.abs(got.boxTargets[4 * i + c] - x) < 1e-5 * Math.max(1, Math.abs(x))));
    } else {
      t.is(got.labels[i], j);
      t.deepEqual(Array.from(got.boxTargets.subarray(4 * i, 4 * i + 4)), [0, 0, 0, 0]);
    }
  }
  t.is(got.numForeground, fg);
  t.true(fg > 0);
  t.deepEqual([anchors, boxes, labels], [a0, b0, l0]);
});

test('retinanetTargetsBatch equals per-image targets, ragged and empty ground truth', (t) => {
  const r = rng(8);
  const images = [randomImage(r, 3), randomImage(r, 0), randomImage(r, 12)];
  const batch = ops.retinanetTargetsBatch(anchors, images.map((x) => x.boxes), images.map((x) => x.labels), { weights: [10, 10, 5, 5] });
  let total = 0;
  images.forEach((im, i) => {
    const one = ops.retinanetTargets(anchors, im.boxes, im.labels, { weights: [10, 10, 5, 5] });
    t.deepEqual(batch.labels.subarray(i * n, (i + 1) * n), one.labels);
    t.deepEqual(batch.matches.subarray(i * n, (i + 1) * n), one.matches);
    t.deepEqual(batch.boxTargets.subarray(i * n * 4, (i + 1) * n * 4), one.boxTargets);
    t.is(batch.numForegroundPerImage[i], one.numForeground);
    total += one.numForeground;
  });
  t.is(batch.numForeground, total);
  t.is(batch.numForegroundPerImage[1], 0);
  t.true(batch.labels.subarray(n, 2 * n).every((l) => l === -1));
});

test('targets feed the focal loss: its default normalizer is numForeground', (t) => {
  const r = rng(9);
  const { boxes, labels } = randomImage(r, 5);
  const tg = ops.retinanetTargets(anchors, boxes, labels);
  const logits = new Float32Array(n * 80).fill(-4.59512);
  const a = ops.sigmoidFocalLoss(logits, tg.labels, 80);
  const b = ops.sigmoidFocalLoss(logits, tg.labels, 80, { normalizer: tg.numForeground });
  t.is(a.loss, b.loss);
});

test('bad arguments are rejected naming the argument, inputs unchanged', (t) => {
  const boxes = new Float32Array([0, 0, 50, 50]);
  const labels = new Int32Array([3]);
  const [b0, l0] = snapshot(boxes, labels);
  t.throws(() => ops.retinanetTargets(anchors, boxes, new Int32Array([3, 4])), { instanceOf: RangeError, message: /gtLabels/ });
  t.throws(() => ops.retinanetTargets(anchors, boxes, new Int32Array([-1])), { instanceOf: RangeError, message: /gtLabels/ });
  t.throws(() => ops.retinanetTargets(anchors, boxes, labels, { numClasses: 3 }), { instanceOf: RangeError, message: /gtLabels\[0\]\[0\] = 3/ });
  t.throws(() => ops.retinanetTargets(anchors, boxes, new Float32Array([3])), { instanceOf: TypeError, message: /gtLabels/ });
  t.throws(() => ops.retinanetTargets(anchors, boxes, labels, { bgIou: 0.7 }), { instanceOf: RangeError, message: /bgIou/ });
  t.throws(() => ops.retinanetTargets(anchors, boxes, labels, { weights: [1, 1] }), { instanceOf: RangeError, message: /weights/ });
  t.throws(() => ops.retinanetTargets(new Float32Array([0, 0, 0, 0]), boxes, labels), { instanceOf: RangeError, message: /anchors/ });
  t.throws(() => ops.retinanetTargetsBatch(anchors, [boxes], []), { instanceOf: RangeError, message: /gtLabels/ });
  t.deepEqual([boxes, labels], [b0, l0]);
});
