'use strict';
// Property-based tests (fast-check): random valid inputs agree with the brute-force references;
// random invalid inputs give a TypeError or RangeError and leave every input unchanged.
const test = require('ava');
const fc = require('fast-check');
const ops = require('../dist/ops');
const { nmsRef, matchRef, iouF32 } = require('./helpers/reference');

const RUNS = 150;

/** Well-formed boxes from arbitrary floats: sorted corners, finite, within ±1e6. */
const boxesArb = (min, max) => fc.array(
  fc.tuple(...Array.from({ length: 4 }, () => fc.float({ min: -1e3, max: 1e3, noNaN: true }))),
  { minLength: min, maxLength: max },
).map((list) => Float32Array.from(list.flatMap(([a, b, c, d]) => [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)])));

test('nms agrees with brute-force greedy NMS on arbitrary boxes, scores and thresholds', (t) => {
  fc.assert(fc.property(
    boxesArb(0, 40), fc.float({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 1000 }),
    (boxes, thr, seed) => {
      const n = boxes.length / 4;
      const scores = Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 13) / 13); // many ties
      const got = Array.from(ops.nms(boxes, scores, thr));
      const want = nmsRef(boxes, scores, thr);
      return got.length === want.length && got.every((v, i) => v === want[i]);
    },
  ), { numRuns: RUNS });
  t.pass();
});

test('matchAnchors agrees with the brute-force Matcher on arbitrary boxes', (t) => {
  fc.assert(fc.property(
    boxesArb(0, 60), boxesArb(0, 6), fc.float({ min: Math.fround(0.05), max: 1, noNaN: true }), fc.boolean(),
    (anchors, gt, fg, lowQuality) => {
      const opts = { fgIou: fg, bgIou: fg * 0.8, allowLowQuality: lowQuality };
      const got = ops.matchAnchors(anchors, gt, opts);
      const want = matchRef(anchors, gt, opts);
      return got.matches.every((m, i) => m === want.matches[i]) && got.maxIou.every((v, i) => v === want.maxIou[i]);
    },
  ), { numRuns: RUNS });
  t.pass();
});

test('boxIou equals the float32 step-by-step IoU on arbitrary boxes', (t) => {
  fc.assert(fc.property(boxesArb(0, 20), boxesArb(0, 20), (a, b) => {
    const got = ops.boxIou(a, b);
    const nb = b.length / 4;
    return got.every((v, idx) => v === iouF32(a, 4 * Math.floor(idx / nb), b, 4 * (idx % nb)));
  }), { numRuns: RUNS });
  t.pass();
});

// Invalid arguments: wrong kinds, wrong lengths, NaN / Infinity, out-of-range values.
const junk = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.string(), fc.constant([1, 2, 3, 4]),
  fc.constant(new Float64Array(8)), fc.constant(new Int32Array(4)), fc.constant(new Float32Array(3)),
  fc.constant(new Float32Array([0, 0, NaN, 1])), fc.constant(new Float32Array([5, 5, 1, 1])), fc.constant({}),
  fc.constant(Symbol('x')), fc.constant(new Float32Array(8).subarray(1, 4)),
);

function rejectsCleanly(fn, inputs) {
  const before = inputs.map((x) => (ArrayBuffer.isView(x) ? x.slice() : x));
  try {
    fn();
  } catch (e) {
    const same = inputs.every((x, i) => !ArrayBuffer.isView(x) || x.every((v, j) => Object.is(v, before[i][j])));
    return (e instanceof TypeError || e instanceof RangeError) && same;
  }
  return true; // junk that happened to be valid (e.g. an empty array) is fine if it does not throw
}

test('invalid arguments to every op give TypeError / RangeError and change nothing', (t) => {
  const good = new Float32Array([0, 0, 10, 10, 5, 5, 20, 20]);
  const scores = new Float32Array([0.5, 0.7]);
  const labels = new Int32Array([0, -1]);
  fc.assert(fc.property(junk, junk, (a, b) => [
    rejectsCleanly(() => ops.nms(a, scores, 0.5), [a]),
    rejectsCleanly(() => ops.nms(good, a, b), [a, b]),
    rejectsCleanly(() => ops.batchedNms(good, scores, a, 0.5), [a]),
    rejectsCleanly(() => ops.boxIou(a, b), [a, b]),
    rejectsCleanly(() => ops.matchAnchors(a, b), [a, b]),
    rejectsCleanly(() => ops.matchAnchors(good, good, { fgIou: a }), [a]),
    rejectsCleanly(() => ops.encodeBoxes(a, b), [a, b]),
    rejectsCleanly(() => ops.decodeBoxes(good, a, { clip: b }), [a, b]),
    rejectsCleanly(() => ops.sigmoidFocalLoss(a, labels, 4), [a]),
    rejectsCleanly(() => ops.sigmoidFocalLoss(new Float32Array(8), a, b), [a, b]),
    rejectsCleanly(() => ops.focalLossStar(new Float32Array(8), labels, 4, { gamma: a }), [a]),
    rejectsCleanly(() => ops.retinanetTargets(good, a, b), [a, b]),
    rejectsCleanly(() => ops.generateAnchors({ height: a, width: b }), [a, b]),
    rejectsCleanly(() => ops.postprocess([{ logits: a, deltas: b, anchors: good }], 2, [[10, 10]]), [a, b]),
  ].every(Boolean)), { numRuns: 300 });
  t.pass();
});
