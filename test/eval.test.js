'use strict';
// COCO box AP (lib/eval) against cases computed by hand from pycocotools' definitions, plus the
// SVG line chart. (tools/coco-eval-check.js compares with pycocotools itself on random data.)
const test = require('ava');
const { evaluateCoco, formatSummary, prCurveSvg, IOU_THRS, REC_THRS } = require('../dist/eval');
const { lineChartSvg } = require('../dist/plot/line-chart');

// pycocotools' precision is tp / (tp + fp + eps) with eps = np.spacing(1), so a "perfect"
// precision is 1 / (1 + eps) = 0.9999999999999998, and 1/2 is 1 / (2 + eps).
const EPS = Number.EPSILON;
const ONE = 1 / (1 + EPS);
const prec = (tp, fp) => tp / (tp + fp + EPS);
const close = (t, got, want, msg, tol = 1e-12) =>
  t.true(Math.abs(got - want) <= tol, `${msg ?? ''} got ${got}, want ${want}`);
const closeAll = (t, got, want, tol = 1e-12) =>
  want.forEach((w, i) => close(t, got[i], w, `stats[${i}]`, tol));

const gt = (imageId, categoryId, bbox, extra = {}) => ({ imageId, categoryId, bbox, ...extra });
const det = (imageId, categoryId, bbox, score) => ({ imageId, categoryId, bbox, score });

// precision[t, r, k, a, m] of a result.
function P(res, t, r, k, a, m) {
  const [, R, K, A, M] = res.precision.dims;
  return res.precision.data[(((t * R + r) * K + k) * A + a) * M + m];
}
function Rc(res, t, k, a, m) {
  const [, K, A, M] = res.recall.dims;
  return res.recall.data[((t * K + k) * A + a) * M + m];
}
// AP from the 101 interpolated precisions, the way the mean over recall points works out.
const apOf = (values) => values.reduce((s, v) => s + v, 0) / values.length;
// Recall points (i * 0.01) up to and including x, and above x.
const pointsUpTo = (x) => REC_THRS.filter((r) => r <= x).length;

test('parameters are numpy linspace values', (t) => {
  t.is(IOU_THRS.length, 10);
  t.is(REC_THRS.length, 101);
  t.is(IOU_THRS[8], 0.8999999999999999); // np.linspace(.5, .95, 10)[8], not 0.9
  t.is(IOU_THRS[5], 0.75);
  t.is(REC_THRS[50], 0.5);
  t.is(REC_THRS[100], 1);
});

test('perfect detections: every stat is 1 (pycocotools: 1 / (1 + eps))', (t) => {
  const gts = [
    gt(1, 1, [10, 10, 20, 20]), // small (400)
    gt(1, 2, [100, 100, 60, 60]), // medium (3600)
    gt(2, 1, [0, 0, 200, 150]), // large
    gt(2, 2, [300, 300, 8, 8]), // small
    gt(3, 1, [50, 50, 40, 50]), // medium
  ];
  const dets = gts.map((g, i) => det(g.imageId, g.categoryId, g.bbox.slice(), 0.9 - 0.1 * i));
  const res = evaluateCoco(gts, dets);
  closeAll(t, res.stats, [ONE, ONE, ONE, ONE, ONE, ONE, 1, 1, 1, 1, 1, 1]);
  t.deepEqual(res.categoryIds, [1, 2]);
  t.deepEqual(res.precision.dims, [10, 101, 2, 4, 3]);
  t.deepEqual(res.recall.dims, [10, 2, 4, 3]);
  t.deepEqual(res.perCategory.map((c) => [c.categoryId, c.numGroundTruth, c.numDetections]), [[1, 3, 3], [2, 2, 2]]);
  for (const c of res.perCategory) closeAll(t, [c.ap, c.ap50, c.ap75], [ONE, ONE, ONE]);
});

test('no detections: AP and AR are 0; area ranges without ground truth are -1', (t) => {
  const gts = [gt(1, 1, [0, 0, 50, 50]), gt(2, 1, [10, 10, 40, 40])]; // both medium
  const res = evaluateCoco(gts, []);
  t.deepEqual([...res.stats], [0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, -1]);
  t.is(P(res, 0, 0, 0, 0, 2), 0); // defined (0), not -1: the category has ground truth
});

test('a category without ground truth is -1 and leaves the means alone', (t) => {
  const gts = [gt(1, 1, [0, 0, 50, 50])];
  const dets = [det(1, 1, [0, 0, 50, 50], 0.9), det(1, 8, [0, 0, 50, 50], 0.8)]; // 8: no ground truth
  const res = evaluateCoco(gts, dets, { categoryIds: [1, 7, 8] }); // 7: nothing at all
  t.deepEqual(res.categoryIds, [1, 7, 8]);
  closeAll(t, res.perCategory.map((c) => c.ap), [ONE, -1, -1]);
  closeAll(t, res.perCategory.map((c) => c.ap50), [ONE, -1, -1]);
  close(t, res.stats[0], ONE, 'AP');
  for (let r = 0; r < 101; r++) {
    t.is(P(res, 0, r, 1, 0, 2), -1);
    t.is(P(res, 0, r, 2, 0, 2), -1);
  }
  t.is(Rc(res, 0, 2, 0, 2), -1);
  t.deepEqual([...evaluateCoco([], dets).stats], new Array(12).fill(-1)); // no ground truth at all
  t.deepEqual([...evaluateCoco([], []).stats], new Array(12).fill(-1));
});

test('duplicates: the second detection of an object is a false positive (precision 1, 0.5, 0.67)', (t) => {
  // Image 1: two copies of the same box on its object (0.9, 0.8); image 2: one exact hit (0.7).
  // Ranked: TP, FP, TP over npig = 2 objects:
  //   tp = 1, 1, 2   fp = 0, 1, 1   recall = .5, .5, 1   precision = 1, .5, .667
  //   interpolated (max to the right) = 1, .667, .667
  //   recall points 0..0.50 (51 of them) read index 0 -> 1; 0.51..1 (50) read index 2 -> .667
  //   AP = (51 * 1 + 50 * 2/3) / 101 = 84.33 / 101 = 0.83498
  const gts = [gt(1, 1, [0, 0, 100, 100]), gt(2, 1, [20, 20, 100, 100])];
  const dets = [det(1, 1, [0, 0, 100, 100], 0.9), det(1, 1, [0, 0, 100, 100], 0.8), det(2, 1, [20, 20, 100, 100], 0.7)];
  const res = evaluateCoco(gts, dets);
  const want = (51 * ONE + 50 * prec(2, 1)) / 101;
  close(t, want, 84.333333 / 101, 'hand value', 1e-8);
  closeAll(t, res.stats.slice(0, 3), [want, want, want]);
  t.is(res.stats[8], 1); // both objects found
  t.is(res.stats[6], 1); // the best detection of each image is a hit
  t.is(P(res, 0, 50, 0, 0, 2), ONE);
  t.is(P(res, 0, 51, 0, 0, 2), prec(2, 1));
});

test('101-point interpolation: TP FP TP FP TP over 3 objects', (t) => {
  // tp = 1 1 2 2 3, fp = 0 1 1 2 2, recall = 1/3 1/3 2/3 2/3 1,
  // precision = 1 .5 .667 .5 .6 -> interpolated 1 .667 .667 .6 .6
  // recall points <= 1/3: 0..0.33 (34) -> 1; (1/3, 2/3]: 0.34..0.66 (33) -> 2/3; 0.67..1 (34) -> 0.6
  // AP = (34 + 33 * 2/3 + 34 * 0.6) / 101 = 76.4 / 101 = 0.75644
  const gts = [gt(1, 1, [0, 0, 50, 50]), gt(1, 1, [100, 0, 50, 50]), gt(1, 1, [200, 0, 50, 50])];
  const dets = [
    det(1, 1, [0, 0, 50, 50], 0.9), det(1, 1, [400, 400, 50, 50], 0.8), det(1, 1, [100, 0, 50, 50], 0.7),
    det(1, 1, [500, 400, 50, 50], 0.6), det(1, 1, [200, 0, 50, 50], 0.5),
  ];
  const res = evaluateCoco(gts, dets);
  t.is(pointsUpTo(1 / 3), 34);
  t.is(pointsUpTo(2 / 3), 67);
  const curve = REC_THRS.map((r) => (r <= 1 / 3 ? ONE : r <= 2 / 3 ? prec(2, 1) : prec(3, 2)));
  for (let r = 0; r < 101; r++) t.is(P(res, 0, r, 0, 0, 2), curve[r], `recall point ${r}`);
  close(t, res.stats[1], apOf(curve));
  close(t, res.stats[1], 76.4 / 101, 'hand value', 1e-9);
  close(t, res.stats[0], apOf(curve)); // IoU is 1: every threshold alike
  t.deepEqual(res.prCurve.recall, REC_THRS);
  t.deepEqual(res.prCurve.curves.map((c) => c.iouThreshold), [0.5, 0.75]);
  t.deepEqual(res.prCurve.curves[0].precision, curve);
  // scores: the score of the detection where each recall point is first reached.
  const [, R, K, A, M] = res.scores.dims;
  const score = (r) => res.scores.data[(((0 * R + r) * K + 0) * A + 0) * M + 2];
  t.deepEqual([score(0), score(33), score(34), score(66), score(67), score(100)], [0.9, 0.9, 0.7, 0.7, 0.5, 0.5]);
});

test('a crowd region swallows the detections inside it: ignored, not false positives', (t) => {
  const person = gt(1, 1, [0, 0, 50, 50]);
  const crowd = gt(1, 1, [200, 200, 100, 100], { iscrowd: 1 });
  const dets = [
    det(1, 1, [210, 210, 20, 20], 0.95), // inside the crowd: IoU = intersection / own area = 1
    det(1, 1, [0, 0, 50, 50], 0.9), // the person
    det(1, 1, [250, 250, 30, 30], 0.85), // inside the crowd too: crowds match any number of times
  ];
  // With the crowd: ranked IGNORED, TP, IGNORED, npig = 1 -> recall 0, 1, 1, precision 0, 1, 1
  // -> interpolated 1 everywhere: AP = 1 (1 / (1 + eps)).
  const res = evaluateCoco([person, crowd], dets);
  // AR1 is 0: the image's single best detection is the ignored one inside the crowd.
  closeAll(t, res.stats, [ONE, ONE, ONE, -1, ONE, -1, 0, 1, 1, -1, 1, -1]);
  t.is(res.perCategory[0].numGroundTruth, 1); // the crowd is never a missed object
  // Without the crowd region both become false positives: FP, TP, FP -> precision 0, .5, .33
  // -> interpolated .5 at every recall point: AP = 0.5.
  const without = evaluateCoco([person], dets);
  close(t, without.stats[0], prec(1, 1), 'AP');
  t.true(Math.abs(without.stats[0] - 0.5) < 1e-12);
  // iscrowd: true is the same as 1
  t.deepEqual(evaluateCoco([person, { ...crowd, iscrowd: true }], dets).stats, res.stats);
});

test('area ranges: APs, APm, APl and ARs, ARm, ARl each count their own objects', (t) => {
  // One image: small (10x10) and large (200x200) objects found, the medium one (50x50) missed,
  // and a large false positive (300x300) ranked between the two hits.
  const gts = [gt(1, 1, [0, 0, 10, 10]), gt(1, 1, [100, 100, 50, 50]), gt(1, 1, [300, 300, 200, 200])];
  const dets = [
    det(1, 1, [0, 0, 10, 10], 0.9), // small hit
    det(1, 1, [600, 0, 300, 300], 0.8), // large false positive
    det(1, 1, [300, 300, 200, 200], 0.5), // large hit
  ];
  const res = evaluateCoco(gts, dets);
  // all:    TP FP TP, npig 3: precision 1 .5 .667 at recall 1/3 1/3 2/3 -> 34 points 1, 33 points .667, 34 zero
  const all = (34 * ONE + 33 * prec(2, 1)) / 101;
  close(t, all, 56 / 101, 'hand value', 1e-9);
  // small:  TP, then the two large detections are ignored (one unmatched outside the range, one
  //         matched to the large object, which is ignored here) -> AP 1
  // medium: the medium object is missed, every detection is ignored -> AP 0, AR 0
  // large:  small hit ignored (matched to an ignored object), FP, TP -> precision 0 0 .5 -> AP .5
  const want = [all, all, all, ONE, 0, prec(1, 1), 1 / 3, 2 / 3, 2 / 3, 1, 0, 1];
  closeAll(t, res.stats, want);
  // AR1: only the best detection (the small hit) counts.
  close(t, res.stats[6], 1 / 3, 'AR1');
});

test('area range bounds are inclusive, and a given area overrides w * h', (t) => {
  // 32 x 32 = 1024 = 32^2: both small and medium, as in pycocotools.
  const g = gt(1, 1, [0, 0, 32, 32]);
  const d = det(1, 1, [0, 0, 32, 32], 0.9);
  const res = evaluateCoco([g], [d]);
  closeAll(t, res.stats.slice(3, 6), [ONE, ONE, -1]);
  // A 40 x 40 box (medium by w * h) with a segmentation area of 500: small.
  const g2 = gt(1, 1, [0, 0, 40, 40], { area: 500 });
  const res2 = evaluateCoco([g2], [det(1, 1, [0, 0, 40, 40], 0.9)]);
  closeAll(t, res2.stats.slice(3, 6), [ONE, -1, -1]);
  t.deepEqual([res2.stats[9], res2.stats[10], res2.stats[11]], [1, -1, -1]);
  // The detection's own area (w * h = 1600) decides whether an unmatched detection is ignored:
  // a medium-sized false positive counts against medium, not small.
  const res3 = evaluateCoco([g2], [det(1, 1, [0, 0, 40, 40], 0.9), det(1, 1, [100, 100, 40, 40], 0.95)]);
  close(t, res3.stats[3], ONE, 'APs'); // small: the FP is ignored
});

test('maxDets: AR1 counts each image\'s best detection, AR10 ten; only 100 per image are kept', (t) => {
  const gts = [];
  const dets = [];
  for (let i = 0; i < 5; i++) {
    gts.push(gt(1, 1, [100 * i, 0, 50, 50]));
    dets.push(det(1, 1, [100 * i, 0, 50, 50], 0.9 - 0.1 * i));
  }
  const res = evaluateCoco(gts, dets);
  t.is(res.stats[6], 1 / 5); // AR1
  t.is(res.stats[7], 1); // AR10
  t.is(res.stats[8], 1); // AR100
  // 100 false positives scored above the one hit push it out of the 100 kept.
  const fps = Array.from({ length: 100 }, (_, i) => det(1, 1, [1000 + i, 1000, 50, 50], 0.99 - i * 0.001));
  const g = [gt(1, 1, [0, 0, 50, 50])];
  const cut = evaluateCoco(g, [det(1, 1, [0, 0, 50, 50], 0.5), ...fps]);
  t.deepEqual([cut.stats[0], cut.stats[8]], [0, 0]);
  t.is(cut.perCategory[0].numDetections, 100);
  // 99 of them leave room for it: it is the 100th, recall 1, precision 1 / 100.
  const kept = evaluateCoco(g, [det(1, 1, [0, 0, 50, 50], 0.5), ...fps.slice(0, 99)]);
  t.is(kept.stats[8], 1);
  close(t, kept.stats[1], prec(1, 99), 'AP50');
});

test('score ties: stable order, images by id, then input order within an image', (t) => {
  const gts = [gt(1, 1, [0, 0, 50, 50]), gt(2, 1, [0, 0, 50, 50])];
  const miss = (img) => det(img, 1, [300, 300, 50, 50], 0.5);
  const hit = (img) => det(img, 1, [0, 0, 50, 50], 0.5);
  // Image 1's false positive ranks before image 2's hit (whatever the input order):
  // FP TP over 2 objects: recall 0 .5, precision 0 .5 -> .5 at the 51 points up to .5: AP = 51 * .5 / 101
  const a = evaluateCoco(gts, [hit(2), miss(1)]);
  close(t, a.stats[1], (51 * prec(1, 1)) / 101, 'AP50');
  // Image 1's hit ranks first: TP FP -> precision 1 up to recall .5: AP = 51 / 101
  const b = evaluateCoco(gts, [miss(2), hit(1)]);
  close(t, b.stats[1], (51 * ONE) / 101, 'AP50');
  // Within one image, ties keep input order (numpy's stable mergesort).
  const one = [gt(1, 1, [0, 0, 50, 50])];
  close(t, evaluateCoco(one, [miss(1), hit(1)]).stats[1], prec(1, 1), 'FP first');
  close(t, evaluateCoco(one, [hit(1), miss(1)]).stats[1], ONE, 'TP first');
});

test('IoU exactly at a threshold matches (IoU >= t), including 0.75 and 0.9 vs 0.8999999999999999', (t) => {
  const g = [gt(1, 1, [0, 0, 100, 100])];
  const at = (h) => evaluateCoco(g, [det(1, 1, [0, 0, 100, h], 0.9)]);
  // IoU = h / 100 exactly: matched at every threshold <= IoU.
  const cases = [[50, 1], [55, 2], [70, 5], [75, 6], [90, 9], [95, 10], [49, 0]];
  for (const [h, matched] of cases) {
    const res = at(h);
    close(t, res.stats[0], (matched * ONE) / 10, `AP for IoU ${h / 100}`);
    close(t, res.stats[1], h >= 50 ? ONE : 0, 'AP50');
    close(t, res.stats[2], h >= 75 ? ONE : 0, 'AP75');
    t.is(res.stats[8], matched / 10);
  }
});

test('a detection keeps its match to a regular object over a better-overlapping ignored one', (t) => {
  // pycocotools: once matched to a non-ignored object, stop at the first ignored one.
  const regular = gt(1, 1, [0, 0, 100, 100]);
  const crowd = gt(1, 1, [0, 0, 100, 90], { iscrowd: 1 });
  const d = det(1, 1, [0, 0, 100, 90], 0.9); // IoU .9 with the object, 1 with the crowd
  const res = evaluateCoco([crowd, regular], [d]);
  close(t, res.stats[1], ONE, 'AP50'); // a true positive, not swallowed by the crowd
  // At IoU .95 the object is out of reach: the crowd takes it, ignored rather than FP.
  t.is(P(res, 9, 0, 0, 0, 2), 0);
  t.is(Rc(res, 9, 0, 0, 2), 0);
});

test('images with detections and no ground truth count their false positives; imageIds restricts', (t) => {
  const gts = [gt(1, 1, [0, 0, 50, 50])];
  const dets = [det(1, 1, [0, 0, 50, 50], 0.5), det(2, 1, [0, 0, 50, 50], 0.9)];
  // FP (image 2) then TP: precision .5 at recall 1
  close(t, evaluateCoco(gts, dets).stats[1], prec(1, 1), 'AP50');
  close(t, evaluateCoco(gts, dets, { imageIds: [1] }).stats[1], ONE, 'AP50');
  t.deepEqual(evaluateCoco(gts, dets, { imageIds: [1] }).params.imageIds, [1]);
});

test('bad input: TypeError / RangeError naming the entry', (t) => {
  const g = gt(1, 1, [0, 0, 10, 10]);
  const d = det(1, 1, [0, 0, 10, 10], 0.5);
  const bad = [
    [() => evaluateCoco(null, []), TypeError, /groundTruth/],
    [() => evaluateCoco([], 'x'), TypeError, /detections/],
    [() => evaluateCoco([g, null], []), TypeError, /groundTruth\[1\]/],
    [() => evaluateCoco([{ ...g, bbox: [0, 0, NaN, 10] }], []), RangeError, /groundTruth\[0\]\.bbox\[2\]/],
    [() => evaluateCoco([{ ...g, bbox: [0, 0, 10] }], []), RangeError, /groundTruth\[0\]\.bbox/],
    [() => evaluateCoco([{ ...g, bbox: '0,0,1,1' }], []), TypeError, /groundTruth\[0\]\.bbox/],
    [() => evaluateCoco([{ ...g, bbox: [0, 0, -1, 10] }], []), RangeError, /width and height/],
    [() => evaluateCoco([{ ...g, bbox: [0, Infinity, 1, 10] }], []), RangeError, /bbox\[1\]/],
    [() => evaluateCoco([{ bbox: [0, 0, 1, 1], categoryId: 1 }], []), TypeError, /groundTruth\[0\]\.imageId/],
    [() => evaluateCoco([{ ...g, categoryId: '1' }], []), TypeError, /categoryId/],
    [() => evaluateCoco([{ ...g, area: -5 }], []), RangeError, /area/],
    [() => evaluateCoco([{ ...g, iscrowd: 2 }], []), TypeError, /iscrowd/],
    [() => evaluateCoco([{ ...g, id: NaN }], []), RangeError, /\.id/],
    [() => evaluateCoco([], [d, { ...d, score: undefined }]), TypeError, /detections\[1\]\.score/],
    [() => evaluateCoco([], [{ ...d, score: NaN }]), RangeError, /detections\[0\]\.score/],
    [() => evaluateCoco([], [{ ...d, score: -Infinity }]), RangeError, /score/],
    [() => evaluateCoco([], [{ ...d, bbox: [0, 0, 1, -1] }]), RangeError, /detections\[0\]\.bbox/],
    [() => evaluateCoco([g], [d], { imageIds: 3 }), TypeError, /options\.imageIds/],
    [() => evaluateCoco([g], [d], { categoryIds: [1, NaN] }), RangeError, /options\.categoryIds\[1\]/],
    [() => evaluateCoco([g], [d], 5), TypeError, /options/],
    [() => formatSummary([1, 2]), TypeError, /stats/],
  ];
  for (const [fn, type, message] of bad) t.throws(fn, { instanceOf: type, message });
  // Zero-size boxes are valid (IoU 0), as are typed-array boxes.
  t.notThrows(() => evaluateCoco([{ ...g, bbox: [0, 0, 0, 0] }], [{ ...d, bbox: Float64Array.of(0, 0, 10, 10) }]));
});

test('inputs are only read: not reordered, not annotated, frozen inputs work', (t) => {
  const gts = [gt(2, 1, [0, 0, 50, 50], { iscrowd: 0, id: 7 }), gt(1, 3, [5, 5, 20, 20], { area: 300 }), gt(1, 1, [0, 0, 9, 9], { iscrowd: 1 })];
  const dets = [det(2, 1, [1, 1, 50, 50], 0.2), det(1, 3, [5, 5, 20, 20], 0.7), det(1, 1, [0, 0, 4, 4], 0.9)];
  const before = JSON.stringify([gts, dets]);
  const deepFreeze = (o) => { Object.values(o).forEach((v) => typeof v === 'object' && deepFreeze(v)); return Object.freeze(o); };
  const res = evaluateCoco(deepFreeze(gts), deepFreeze(dets), deepFreeze({ imageIds: [2, 1], categoryIds: [3, 1] }));
  t.is(JSON.stringify([gts, dets]), before);
  t.deepEqual(res.categoryIds, [1, 3]);
  t.deepEqual(res.params.imageIds, [1, 2]);
});

test('formatSummary prints pycocotools\' lines character for character', (t) => {
  const stats = [0.3621, 0.5, 0.75, -1, 0.0625, 0.1875, 1, 0.123456, 0.9999, 0, 0.0005, 0.5625];
  t.is(formatSummary(stats), [
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.362',
    ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.500',
    ' Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.750',
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000',
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.062', // exact tie: to even
    ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.188',
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000',
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.123',
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000',
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.000',
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.001', // 0.0005 is just above
    ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.562',
  ].join('\n'));
});

test('per-category AP and the PR curve average the categories that have ground truth', (t) => {
  // Category 1: perfect. Category 2: the duplicate case (1, .667 interpolated). Category 5: no gt.
  const gts = [gt(1, 1, [0, 0, 40, 40]), gt(1, 2, [0, 0, 100, 100]), gt(2, 2, [20, 20, 100, 100])];
  const dets = [
    det(1, 1, [0, 0, 40, 40], 0.3),
    det(1, 2, [0, 0, 100, 100], 0.9), det(1, 2, [0, 0, 100, 100], 0.8), det(2, 2, [20, 20, 100, 100], 0.7),
    det(2, 5, [0, 0, 10, 10], 0.9),
  ];
  const res = evaluateCoco(gts, dets);
  const cat2 = REC_THRS.map((r) => (r <= 0.5 ? ONE : prec(2, 1)));
  t.deepEqual(res.perCategory.map((c) => c.categoryId), [1, 2, 5]);
  close(t, res.perCategory[0].ap, ONE);
  close(t, res.perCategory[1].ap, apOf(cat2));
  close(t, res.perCategory[1].ap75, apOf(cat2));
  t.is(res.perCategory[2].ap, -1);
  const curve = res.prCurve.curves[0].precision;
  for (let r = 0; r < 101; r++) close(t, curve[r], (ONE + cat2[r]) / 2, `recall point ${r}`, 1e-15);
  close(t, res.stats[0], (ONE + apOf(cat2)) / 2);
  // The SVG plot of it.
  const svg = prCurveSvg(res);
  t.true(svg.includes('IoU=0.50'));
  t.true(svg.includes('IoU=0.75'));
  t.true(wellFormed(svg));
});

// Tags balance and nest (a small XML check: no DTDs, CDATA or comments are produced).
function wellFormed(svg) {
  const stack = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m;
  while ((m = re.exec(svg))) {
    const between = svg.slice(last, m.index);
    if (/[<>]/.test(between) || /&(?!amp;|lt;|gt;|quot;|apos;)/.test(between)) return false;
    last = re.lastIndex;
    const [, close, name, , self] = m;
    if (self) continue;
    if (!close) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0 && !/[<>]/.test(svg.slice(last)) && svg.trimStart().startsWith('<svg');
}

test('lineChartSvg: well-formed SVG with axes, legend and escaped text', (t) => {
  const iters = Array.from({ length: 50 }, (_, i) => i * 20);
  const svg = lineChartSvg({
    title: 'Loss <train> & "val"',
    xLabel: 'iteration',
    yLabel: 'loss',
    series: [
      { name: 'focal loss', points: iters.map((x) => [x, 1.2 * Math.exp(-x / 300) + 0.05]) },
      { name: 'box <L1>', points: iters.map((x, i) => [x, i === 10 ? NaN : 0.8 * Math.exp(-x / 500)]), dashed: true },
    ],
  });
  t.true(wellFormed(svg));
  t.true(svg.includes('focal loss'));
  t.true(svg.includes('box &lt;L1&gt;'));
  t.true(svg.includes('Loss &lt;train&gt; &amp; &quot;val&quot;'));
  t.false(svg.includes('<train>'));
  t.is((svg.match(/<path /g) || []).length, 3); // the NaN breaks the second line in two
  t.true(svg.includes('>iteration<') && svg.includes('>loss<'));
  // Log axis, fixed ranges, a single point, no series at all.
  const log = lineChartSvg({ series: [{ name: 'a', points: [[0, 10], [1, 1], [2, 0.01], [3, 0]] }], logY: true });
  t.true(wellFormed(log));
  t.true(log.includes('>0.01<') && log.includes('>10<'));
  t.true(wellFormed(lineChartSvg({ series: [{ name: 'dot', points: [[1, 1]] }], xRange: [0, 2], yRange: [0, 2] })));
  t.true(wellFormed(lineChartSvg({ series: [] })));
  t.throws(() => lineChartSvg({ series: [{ name: 1, points: [] }] }), { instanceOf: TypeError });
  t.throws(() => lineChartSvg({ series: [], xRange: [1, 1] }), { instanceOf: RangeError });
  t.throws(() => lineChartSvg({ series: [], yRange: [0, 1], logY: true }), { instanceOf: RangeError });
  t.throws(() => lineChartSvg({ series: [{ name: 'a', points: [[1]] }] }), { instanceOf: TypeError });
  t.throws(() => lineChartSvg({ series: [], legend: 'middle' }), { instanceOf: RangeError });
  t.true(wellFormed(lineChartSvg({ series: [{ name: 'x', points: [[0, 0], [1, 1]] }], legend: 'bottom-left' })));
});

test('5,000 images x 100 detections evaluate in seconds', (t) => {
  let s = 7;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const gts = [];
  const dets = [];
  for (let img = 0; img < 5000; img++) {
    const boxes = [];
    for (let g = 0; g < 7; g++) {
      const b = [rand() * 500, rand() * 500, 4 + rand() * 200, 4 + rand() * 200];
      boxes.push(b);
      gts.push(gt(img, 1 + Math.floor(rand() * 80), b, { iscrowd: rand() < 0.01 ? 1 : 0 }));
    }
    for (let d = 0; d < 100; d++) {
      const b = boxes[d % 7];
      const cat = rand() < 0.5 ? gts[gts.length - 7 + (d % 7)].categoryId : 1 + Math.floor(rand() * 80);
      dets.push(det(img, cat, [b[0] + rand() * 10 - 5, b[1] + rand() * 10 - 5, b[2], b[3]], rand()));
    }
  }
  const t0 = Date.now();
  const res = evaluateCoco(gts, dets);
  const ms = Date.now() - t0;
  t.log(`${dets.length} detections, ${gts.length} objects: ${ms} ms`);
  t.true(res.stats[0] > 0 && res.stats[0] < 1);
  t.true(ms < 30000, `took ${ms} ms`); // generous: a shared 2-core CI; typically 2-4 s
});
