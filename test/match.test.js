'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { rng, randomBoxes, matchRef, snapshot } = require('./helpers/reference');

const small = ops.generateAnchors({ height: 128, width: 160 }).anchors;

test('matchAnchors equals the brute-force Matcher on random ground truth', (t) => {
  const r = rng(4);
  for (let trial = 0; trial < 6; trial++) {
    const gt = randomBoxes(r, 1 + trial * 3, 160, 4, 120);
    for (const opts of [{}, { allowLowQuality: false }, { fgIou: 0.6, bgIou: 0.3 }, { fgIou: 0.5, bgIou: 0.5 }]) {
      const [a0, g0] = snapshot(small, gt);
      const got = ops.matchAnchors(small, gt, opts);
      const want = matchRef(small, gt, opts);
      t.deepEqual(got.matches, want.matches);
      t.deepEqual(got.maxIou, want.maxIou);
      t.deepEqual(small, a0);
      t.deepEqual(gt, g0);
    }
  }
});

test('low-quality matches: every anchor tied at a box best IoU keeps its own best box', (t) => {
  // Anchor 0 and 1 identical; the box overlaps them with IoU 0.25 only.
  const anchors = new Float32Array([0, 0, 10, 10, 0, 0, 10, 10, 100, 100, 110, 110, 5, 0, 15, 10]);
  const gt = new Float32Array([0, 0, 5, 5]);
  const { matches, maxIou } = ops.matchAnchors(anchors, gt);
  t.deepEqual(Array.from(maxIou), [0.25, 0.25, 0, 0]);
  t.deepEqual(Array.from(matches), [0, 0, -1, -1]);
  t.deepEqual(Array.from(ops.matchAnchors(anchors, gt, { allowLowQuality: false }).matches), [-1, -1, -1, -1]);
});

test('ties between ground-truth boxes go to the lower index', (t) => {
  const anchors = new Float32Array([0, 0, 10, 10, 20, 20, 30, 30]);
  const gt = new Float32Array([50, 50, 60, 60, 0, 0, 10, 10, 20, 20, 30, 30, 0, 0, 10, 10]);
  t.deepEqual(Array.from(ops.matchAnchors(anchors, gt).matches), [1, 2]);
});

test('a box no anchor overlaps gets no low-quality match; zero-area boxes match nothing', (t) => {
  const anchors = new Float32Array([0, 0, 10, 10, 10, 0, 20, 10]);
  const gt = new Float32Array([500, 500, 510, 510, 2, 2, 2, 8, 3, 3, 3, 3]);
  const { matches, maxIou } = ops.matchAnchors(anchors, gt);
  t.deepEqual(Array.from(matches), [-1, -1]);
  t.deepEqual(Array.from(maxIou), [0, 0]);
});

test('between thresholds is -2; at fgIou is foreground; just below bgIou is background', (t) => {
  // IoU of [0,0,10,10] with [0,0,10,w]: w/10.
  const anchors = new Float32Array([0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10]);
  const check = (w, want) => {
    const { matches } = ops.matchAnchors(anchors.subarray(0, 4), new Float32Array([0, 0, 10, w]), { allowLowQuality: false });
    t.is(matches[0], want, `IoU ${w / 10}`);
  };
  check(5, 0);
  check(4.5, -2);
  check(4, -2);
  check(3.9, -1);
});

test('no ground truth: every anchor is background with maxIou 0; no anchors: empty', (t) => {
  const { matches, maxIou } = ops.matchAnchors(small, new Float32Array(0));
  t.true(matches.every((m) => m === -1));
  t.true(maxIou.every((m) => m === 0));
  t.is(matches.length, small.length / 4);
  t.is(ops.matchAnchors(new Float32Array(0), new Float32Array([0, 0, 1, 1])).matches.length, 0);
});

test('matchAnchorsBatch equals per-image matchAnchors (ragged ground truth)', (t) => {
  const r = rng(5);
  const gts = [randomBoxes(r, 3, 160), new Float32Array(0), randomBoxes(r, 9, 160)];
  const batch = ops.matchAnchorsBatch(small, gts);
  const n = small.length / 4;
  gts.forEach((gt, i) => {
    const one = ops.matchAnchors(small, gt);
    t.deepEqual(batch.matches.subarray(i * n, (i + 1) * n), one.matches);
    t.deepEqual(batch.maxIou.subarray(i * n, (i + 1) * n), one.maxIou);
  });
});

test('same result for any thread count (100k anchors, many ties)', (t) => {
  const { anchors } = ops.generateAnchors({ height: 800, width: 1024 });
  const r = rng(6);
  const gt = randomBoxes(r, 20, 800, 8, 400);
  const results = [1, 2, 5].map((n) => {
    ops.setNumThreads(n);
    return ops.matchAnchors(anchors, gt);
  });
  ops.setNumThreads(0);
  t.deepEqual(results[1], results[0]);
  t.deepEqual(results[2], results[0]);
});

test('bad arguments are rejected naming the argument', (t) => {
  const gt = new Float32Array([0, 0, 10, 10]);
  t.throws(() => ops.matchAnchors(small, gt, { bgIou: 0.6 }), { instanceOf: RangeError, message: /bgIou/ });
  t.throws(() => ops.matchAnchors(small, gt, { fgIou: NaN }), { instanceOf: RangeError, message: /fgIou/ });
  t.throws(() => ops.matchAnchors(small, gt, { fgIou: 0 }), { instanceOf: RangeError, message: /fgIou/ });
  t.throws(() => ops.matchAnchors(small, gt, { allowLowQuality: 1 }), { instanceOf: TypeError, message: /allowLowQuality/ });
  t.throws(() => ops.matchAnchors(small, new Float32Array(3)), { instanceOf: RangeError, message: /gtBoxes/ });
  t.throws(() => ops.matchAnchors(small, [0, 0, 1, 1]), { instanceOf: TypeError, message: /gtBoxes/ });
  t.throws(() => ops.matchAnchors(small, new Float32Array([5, 5, 1, 1])), { instanceOf: RangeError, message: /gtBoxes: box 0/ });
  t.throws(() => ops.matchAnchorsBatch(small, gt), { instanceOf: TypeError, message: /gtBoxes/ });
  t.throws(() => ops.matchAnchorsBatch(small, [gt, null]), { instanceOf: TypeError, message: /gtBoxes\[1\]/ });
});
