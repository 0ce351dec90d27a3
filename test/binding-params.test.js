// The binding's calls take their non-data parameters as one object read by name (the long calls
// of focal loss, NMS, GroupNorm and SGD have their own tests beside their ops). Here: matching,
// targets, box coding, anchors, post-processing and the convolution's fused epilogue — each
// parameter reaches its place (changing it changes what it should), and a missing or mistyped one
// is a TypeError naming it, never a crash or a shifted argument.
const test = require('ava');
const ops = require('../dist/ops');
const addon = require('../dist/runtime/addon').native();

const anchors = new Float32Array([0, 0, 10, 10, 0, 0, 10, 14, 30, 30, 40, 40]);
const gt = new Float32Array([0, 0, 10, 12]);
const match = { fgIou: 0.5, bgIou: 0.4, allowLowQuality: true };

test('matching: fgIou, bgIou and allowLowQuality by name', (t) => {
  const [m] = addon.matchAnchors(anchors, gt, match);
  t.deepEqual(Array.from(m), Array.from(ops.matchAnchors(anchors, gt).matches));
  t.deepEqual(Array.from(m), [0, 0, -1]);
  // IoUs 0.833 and 0.857: above 0.9 neither is foreground unless the best one is kept as a low-quality match.
  t.deepEqual(Array.from(addon.matchAnchors(anchors, gt, { ...match, fgIou: 0.9, allowLowQuality: false })[0]), [-2, -2, -1]);
  t.deepEqual(Array.from(addon.matchAnchors(anchors, gt, { ...match, fgIou: 0.9 })[0]), [-2, 0, -1]);
  t.deepEqual(Array.from(addon.matchAnchors(anchors, gt, { fgIou: 0.9, bgIou: 0.85, allowLowQuality: false })[0]), [-1, -2, -1]);
  t.deepEqual(Array.from(addon.matchAnchorsBatch(anchors, [gt, gt], match)[0]), [0, 0, -1, 0, 0, -1]);
  const { allowLowQuality, ...noLow } = match;
  t.true(allowLowQuality);
  t.throws(() => addon.matchAnchors(anchors, gt, noLow), { instanceOf: TypeError, message: /^allowLowQuality: expected a boolean/ });
  t.throws(() => addon.matchAnchorsBatch(anchors, [gt], { ...match, fgIou: '0.5' }), { instanceOf: TypeError, message: /^fgIou: expected a number/ });
  t.throws(() => addon.matchAnchors(anchors, gt, 0.5, 0.4, true), { instanceOf: TypeError, message: /^params: expected an object/ });
  t.throws(() => addon.matchAnchors(anchors, gt, { ...match, bgIou: 0.6 }), { instanceOf: RangeError, message: /^bgIou/ });
});

test('targets: the matching thresholds and the box-coder weights by name', (t) => {
  const labels = Int32Array.of(2);
  const w1 = new Float32Array([1, 1, 1, 1]);
  const [l1, b1, m1, fg1] = addon.retinanetTargets(anchors, [gt], [labels], { ...match, weights: w1 });
  const ref = ops.retinanetTargets(anchors, gt, labels);
  t.deepEqual(Array.from(l1), Array.from(ref.labels));
  t.deepEqual(Array.from(b1), Array.from(ref.boxTargets));
  t.deepEqual(Array.from(m1), Array.from(ref.matches));
  t.deepEqual(Array.from(fg1), [2]);
  const [, b10] = addon.retinanetTargets(anchors, [gt], [labels], { ...match, weights: new Float32Array([10, 10, 5, 5]) });
  for (let i = 0; i < 8; i++) t.true(Math.abs(b10[i] - b1[i] * (i % 4 < 2 ? 10 : 5)) < 1e-5, `target ${i}`);
  const [l9] = addon.retinanetTargets(anchors, [gt], [labels], { ...match, fgIou: 0.9, allowLowQuality: false, weights: w1 });
  t.deepEqual(Array.from(l9), [-2, -2, -1]);
  t.throws(() => addon.retinanetTargets(anchors, [gt], [labels], match), { instanceOf: TypeError, message: /^weights: expected a Float32Array/ });
  t.throws(() => addon.retinanetTargets(anchors, [gt], [labels], { ...match, weights: new Float32Array(3) }), { instanceOf: RangeError, message: /^weights/ });
});

test('box coding: weights, clipHeight and clipWidth by name', (t) => {
  const a = new Float32Array([0, 0, 10, 10]);
  const weights = new Float32Array([1, 1, 1, 1]);
  const box = new Float32Array([2, 2, 12, 12]);
  const d = addon.encodeBoxes(a, box, { weights });
  t.deepEqual(Array.from(d), Array.from(ops.encodeBoxes(a, box)));
  const d2 = addon.encodeBoxes(a, box, { weights: new Float32Array([2, 2, 1, 1]) });
  t.true(Math.abs(d2[0] - 2 * d[0]) < 1e-6 && Math.abs(d2[1] - 2 * d[1]) < 1e-6);
  // Undo it inside a tall narrow image, then the other way round: each clip bound acts on its axis.
  t.deepEqual(Array.from(addon.decodeBoxes(a, d, { weights, clipHeight: 100, clipWidth: 11 })), [2, 2, 11, 12]);
  t.deepEqual(Array.from(addon.decodeBoxes(a, d, { weights, clipHeight: 11, clipWidth: 100 })), [2, 2, 12, 11]);
  t.throws(() => addon.decodeBoxes(a, d, { weights, clipHeight: 100 }), { instanceOf: TypeError, message: /^clipWidth: expected a number/ });
  t.throws(() => addon.encodeBoxes(a, box, weights), { instanceOf: TypeError, message: /^weights: expected a Float32Array/ });
});

test('anchors: scales, aspect ratios, offset and rounding by name', (t) => {
  const levels = Float64Array.of(8, 8, 32, 2, 2);
  const params = { scales: Float32Array.of(1), aspectRatios: Float32Array.of(1), offset: 0, torchvisionRounding: true };
  const a = addon.generateAnchors(levels, params);
  t.deepEqual(Array.from(a.slice(0, 8)), [-16, -16, 16, 16, -8, -16, 24, 16]);
  t.deepEqual(Array.from(addon.generateAnchors(levels, { ...params, offset: 0.5 }).slice(0, 4)), [-12, -12, 20, 20]);
  t.is(addon.generateAnchors(levels, { ...params, scales: Float32Array.of(1, 2) }).length, 2 * 2 * 2 * 4);
  t.is(addon.generateAnchors(levels, { ...params, aspectRatios: Float32Array.of(0.5, 1, 2) }).length, 2 * 2 * 3 * 4);
  t.throws(() => addon.generateAnchors(levels, { ...params, offset: undefined }), { instanceOf: TypeError, message: /^offset: expected a number/ });
  t.throws(() => addon.generateAnchors(levels, { ...params, scales: [1] }), { instanceOf: TypeError, message: /^scales: expected a Float32Array/ });
});

test('post-processing: numClasses, thresholds, top k, max detections and weights by name', async (t) => {
  // One level, one image, 3 anchors and 2 classes: two overlapping boxes of class 1, one of class 0.
  const level = { logits: Float32Array.of(-5, 3, -5, 2, 1, -5), deltas: new Float32Array(12), anchors: Float32Array.of(0, 0, 10, 10, 1, 1, 11, 11, 50, 50, 60, 60) };
  const sizes = Float64Array.of(100, 100);
  const params = { numClasses: 2, scoreThreshold: 0.05, topKPerLevel: 1000, nmsThreshold: 0.5, maxDetections: 100, weights: new Float32Array([1, 1, 1, 1]) };
  const classes = (r) => Array.from(r[0][2]);
  const ref = ops.postprocess([level], 2, [[100, 100]]);
  t.deepEqual(classes(addon.postprocess([level], sizes, params)), Array.from(ref[0].classes));
  t.deepEqual(classes(addon.postprocess([level], sizes, params)), [1, 0]);
  t.deepEqual(classes(addon.postprocess([level], sizes, { ...params, nmsThreshold: 0.9 })), [1, 1, 0]);
  t.deepEqual(classes(addon.postprocess([level], sizes, { ...params, maxDetections: 1 })), [1]);
  t.deepEqual(classes(addon.postprocess([level], sizes, { ...params, scoreThreshold: 0.9 })), [1]);
  t.deepEqual(classes(addon.postprocess([level], sizes, { ...params, topKPerLevel: 1 })), [1]);
  t.deepEqual(classes(await addon.postprocessAsync([level], sizes, params)), [1, 0]);
  t.throws(() => addon.postprocess([level], sizes, { ...params, numClasses: 3 }), { instanceOf: RangeError, message: /logits/ });
  t.throws(() => addon.postprocess([level], sizes, { ...params, topKPerLevel: undefined }), { instanceOf: TypeError, message: /^topKPerLevel: expected a number/ });
  t.throws(() => addon.postprocessAsync([level], sizes, { ...params, weights: null }), { instanceOf: TypeError, message: /^weights: expected a Float32Array/ });
  t.throws(() => addon.postprocess([{ ...level, deltas: undefined }], sizes, params), { instanceOf: TypeError, message: /^levels\[0\]\.deltas: expected a Float32Array/ });
  t.throws(() => addon.postprocess([[level.logits, level.deltas, level.anchors]], sizes, params), { instanceOf: TypeError, message: /^levels\[0\]\.anchors/ });
});

test("the convolution's fused epilogue by name: bias, activation, its alpha, the residual and bfloat16", (t) => {
  // A 1x1 convolution of one pixel with 2 input and 2 output channels: y = x · W.
  const x = Float32Array.of(1, -2);
  const w = Float32Array.of(1, 2, 3, 4);
  const shape = Float64Array.of(1, 1, 1, 2, 1, 1, 2, 1, 1, 0, 0, 1, 1);
  const none = { bias: null, activation: 0, leakyreluAlpha: 0.2, residual: null, bfloat16: false, training: false };
  t.deepEqual(Array.from(addon.conv2d(x, w, shape, none)), [-5, -6]);
  // 1 + 2^-10 is no bfloat16 (it rounds to 1): the flag shows in the product.
  const fine = Float32Array.of(1 + 2 ** -10, 0);
  t.deepEqual(Array.from(addon.conv2d(fine, w, shape, none)), [1 + 2 ** -10, 2 + 2 ** -9]);
  if (addon.cpuIsa().bfloat16) t.deepEqual(Array.from(addon.conv2d(fine, w, shape, { ...none, bfloat16: true })), [1, 2]);
  else t.throws(() => addon.conv2d(fine, w, shape, { ...none, bfloat16: true }), { instanceOf: RangeError, message: /^bfloat16: this CPU has no AVX512-BF16/ });
  t.throws(() => addon.conv2d(x, w, shape, { ...none, bfloat16: undefined }), { instanceOf: TypeError, message: /^bfloat16: expected a boolean/ });
  t.throws(() => addon.conv2d(x, w, shape, { ...none, training: undefined }), { instanceOf: TypeError, message: /^training: expected a boolean/ });
  t.deepEqual(Array.from(addon.conv2d(x, w, shape, { ...none, bias: Float32Array.of(10, 1) })), [5, -5]);
  t.deepEqual(Array.from(addon.conv2d(x, w, shape, { ...none, activation: 1 })), [0, 0]);
  t.deepEqual(Array.from(addon.conv2d(x, w, shape, { ...none, activation: 3, leakyreluAlpha: 0.5 })), [-2.5, -3]);
  t.deepEqual(Array.from(addon.conv2d(x, w, shape, { ...none, residual: Float32Array.of(5, 7) })), [0, 1]);
  const mm = addon.batchMatMul(x, w, { batchA: 1, batchB: 1, m: 1, n: 2, k: 2, transposeA: false, transposeB: false }, { ...none, bias: Float32Array.of(1, 1) });
  t.deepEqual(Array.from(mm), [-4, -5]);
  t.throws(() => addon.conv2d(x, w, shape, { ...none, activation: undefined }), { instanceOf: TypeError, message: /^activation: expected a number/ });
  t.throws(() => addon.conv2d(x, w, shape, { ...none, bias: Float32Array.of(1) }), { instanceOf: RangeError, message: /^bias/ });
  t.throws(() => addon.conv2d(x, w, shape, null, 0, 0.2, null), { instanceOf: TypeError, message: /^epilogue: expected an object/ });
  t.throws(() => addon.conv2d(x, w, Float64Array.of(1, 1, 1, 2, 1, 1, 2, 1, 1, 0, 0, 1, 1.5), none), { instanceOf: RangeError, message: /^shape: expected integers/ });
});
