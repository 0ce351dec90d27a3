'use strict';
const test = require('ava');
const { headOutputs } = require('./helpers/head-outputs');
const ops = require('../dist/ops');
const { rng, snapshot } = require('./helpers/reference');


/** The inference spelled out step by step with the earlier ops. */
function postprocessRef(levels, k, sizes, { scoreThreshold = 0.05, topKPerLevel = 1000, nmsThreshold = 0.5, maxDetections = 100 } = {}) {
  return sizes.map(([h, w], b) => {
    const boxes = [], scores = [], classes = [];
    for (const lv of levels) {
      const n = lv.anchors.length / 4;
      const cand = [];
      for (let f = 0; f < n * k; f++) {
        const s = Math.fround(1 / (1 + Math.exp(-lv.logits[b * n * k + f])));
        if (s > scoreThreshold) cand.push({ s, f });
      }
      cand.sort((x, y) => y.s - x.s || x.f - y.f);
      const top = cand.slice(0, topKPerLevel);
      const a = new Float32Array(top.length * 4), d = new Float32Array(top.length * 4);
      top.forEach(({ f }, i) => {
        const anchor = Math.floor(f / k);
        a.set(lv.anchors.subarray(anchor * 4, anchor * 4 + 4), i * 4);
        d.set(lv.deltas.subarray((b * n + anchor) * 4, (b * n + anchor) * 4 + 4), i * 4);
      });
      const decoded = ops.decodeBoxes(a, d, { clip: [h, w] });
      top.forEach(({ s, f }, i) => {
        boxes.push(...decoded.subarray(i * 4, i * 4 + 4));
        scores.push(s);
        classes.push(f % k);
      });
    }
    const keep = ops.batchedNms(new Float32Array(boxes), new Float32Array(scores), new Int32Array(classes), nmsThreshold, { maxOutput: maxDetections });
    return {
      boxes: Array.from(keep).flatMap((i) => boxes.slice(4 * i, 4 * i + 4)),
      scores: Array.from(keep).map((i) => scores[i]),
      classes: Array.from(keep).map((i) => classes[i]),
    };
  });
}

function compare(t, got, want) {
  t.is(got.length, want.length);
  got.forEach((g, b) => {
    t.deepEqual(Array.from(g.classes), want[b].classes, `image ${b} classes`);
    t.is(g.scores.length, want[b].scores.length);
    g.scores.forEach((s, i) => t.true(Math.abs(s - want[b].scores[i]) < 1e-6));
    g.boxes.forEach((x, i) => t.true(Math.abs(x - want[b].boxes[i]) < 1e-3));
    for (let i = 1; i < g.scores.length; i++) t.true(g.scores[i - 1] >= g.scores[i]);
  });
}

test('postprocess equals the step-by-step reference (batch of 2, several options)', (t) => {
  const r = rng(30);
  const k = 12;
  const levels = headOutputs(r, 256, 384, 2, k);
  const copies = levels.map((l) => snapshot(l.logits, l.deltas, l.anchors));
  const sizes = [[256, 384], [200, 300]];
  for (const opts of [{}, { topKPerLevel: 40 }, { maxDetections: 7, nmsThreshold: 0.3 }, { scoreThreshold: 0.3 }]) {
    const got = ops.postprocess(levels, k, sizes, opts);
    const want = postprocessRef(levels, k, sizes, opts);
    t.true(want[0].scores.length > 0);
    compare(t, got, want);
  }
  levels.forEach((l, i) => t.deepEqual([l.logits, l.deltas, l.anchors], copies[i]));
});

test('detections are clipped to their own image and at most maxDetections', (t) => {
  const r = rng(31);
  const levels = headOutputs(r, 128, 128, 2, 3, 20);
  for (const lv of levels) lv.deltas.fill(3); // grow every box past the image
  const dets = ops.postprocess(levels, 3, [[128, 128], [64, 100]], { maxDetections: 5 });
  for (const [b, [h, w]] of [[0, [128, 128]], [1, [64, 100]]]) {
    t.true(dets[b].scores.length <= 5 && dets[b].scores.length > 0);
    for (let i = 0; i < dets[b].boxes.length; i += 4) {
      const [x1, y1, x2, y2] = dets[b].boxes.subarray(i, i + 4);
      t.true(x1 >= 0 && y1 >= 0 && x2 <= w && y2 <= h);
    }
  }
});

test('no score above the threshold gives empty detections; an empty batch gives []', (t) => {
  const r = rng(32);
  const levels = headOutputs(r, 64, 64, 1, 4, 0);
  const [d] = ops.postprocess(levels, 4, [[64, 64]]);
  t.is(d.scores.length, 0);
  t.is(d.boxes.length, 0);
  const empty = levels.map((l) => ({ logits: new Float32Array(0), deltas: new Float32Array(0), anchors: l.anchors }));
  t.deepEqual(ops.postprocess(empty, 4, []), []);
});

test('postprocessAsync equals postprocess, several in flight', async (t) => {
  const r = rng(33);
  const inputs = Array.from({ length: 4 }, () => headOutputs(r, 192, 192, 1, 8));
  const got = await Promise.all(inputs.map((l) => ops.postprocessAsync(l, 8, [[192, 192]])));
  inputs.forEach((l, i) => t.deepEqual(got[i], ops.postprocess(l, 8, [[192, 192]])));
});

test('bad arguments: TypeError / RangeError naming the argument; NaN logits rejected', async (t) => {
  const r = rng(34);
  const levels = headOutputs(r, 64, 64, 1, 4);
  t.throws(() => ops.postprocess(levels, 5, [[64, 64]]), { instanceOf: RangeError, message: /levels\[0\]\.logits/ });
  t.throws(() => ops.postprocess(levels, 4, [[64, 64], [64, 64]]), { instanceOf: RangeError, message: /levels\[0\]\.logits/ });
  t.throws(() => ops.postprocess(levels, 4, [[64, 0]]), { instanceOf: RangeError, message: /imageSizes\[0\]\[1\]/ });
  t.throws(() => ops.postprocess(levels, 4, [64, 64]), { instanceOf: TypeError, message: /imageSizes\[0\]/ });
  t.throws(() => ops.postprocess([{ logits: levels[0].logits }], 4, [[64, 64]]), { instanceOf: TypeError, message: /anchors/ });
  t.throws(() => ops.postprocess(levels, 4, [[64, 64]], { topKPerLevel: -1 }), { instanceOf: RangeError, message: /topKPerLevel/ });
  t.throws(() => ops.postprocess(levels, 4, [[64, 64]], { nmsThreshold: 2 }), { instanceOf: RangeError, message: /nmsThreshold/ });
  t.throws(() => ops.postprocess(levels, 4, [[64, 64]], { scoreThresh: 0.1 }), { instanceOf: TypeError, message: /scoreThresh/ });
  const bad = levels.map((l) => ({ ...l, logits: l.logits.slice() }));
  bad[1].logits[17] = NaN;
  t.throws(() => ops.postprocess(bad, 4, [[64, 64]]), { instanceOf: RangeError, message: /levels\[1\]\.logits.*NaN/ });
  await t.throwsAsync(ops.postprocessAsync(bad, 4, [[64, 64]]), { instanceOf: RangeError, message: /NaN/ });
  const badDelta = levels.map((l) => ({ ...l, logits: l.logits.slice(), deltas: l.deltas.slice() }));
  badDelta[0].logits.fill(5, 0, 4); // anchor 0 is surely selected
  badDelta[0].deltas[2] = Infinity;
  t.throws(() => ops.postprocess(badDelta, 4, [[64, 64]]), { instanceOf: RangeError, message: /not finite/ });
});
