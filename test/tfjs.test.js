'use strict';
// The ops as tfjs kernels: equal to their pure-tfjs twins (lib/reference), differentiable, leak-free.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const ref = require('../dist/reference');
const { rng, randomBoxes } = require('./helpers/reference');

function maxAbs(a, b) {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function lossProblem(seed, shape, k, ignore = 0.1) {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const logits = tf.tensor(Float32Array.from({ length: n * k }, () => r.uniform(-6, 3)), [...shape, k]);
  const labels = tf.tensor(Int32Array.from({ length: n }, () => {
    const u = r();
    return u < 0.05 ? r.int(0, k) : u < 0.05 + ignore ? -2 : -1;
  }), shape, 'int32');
  return { logits, labels };
}

for (const [shape, ignore] of [[[500], 0.1], [[500], 0], [[2, 300], 0.1], [[3, 100], 0.2]]) {
  test(`focal losses equal their twins: values and tf.grad gradients (shape [${shape}], ignore ${ignore})`, (t) => {
    const { logits, labels } = lossProblem(shape.length * 7 + shape[0], shape, 6, ignore);
    for (const [fn, twin, opts] of [
      [R.sigmoidFocalLoss, ref.sigmoidFocalLossRef, {}],
      [R.sigmoidFocalLoss, ref.sigmoidFocalLossRef, { gamma: 0.5, alpha: null, normalizer: 3 }],
      [R.focalLossStar, ref.focalLossStarRef, { gamma: 2, beta: 1 }],
    ]) {
      const a = fn(logits, labels, opts);
      const b = twin(logits, labels, opts);
      t.true(Math.abs(a.dataSync()[0] - b.dataSync()[0]) < 1e-5 * Math.abs(b.dataSync()[0]));
      const ga = tf.grad((x) => fn(x, labels, opts))(logits);
      const gb = tf.grad((x) => twin(x, labels, opts))(logits);
      t.deepEqual(ga.shape, logits.shape);
      t.true(maxAbs(ga, gb) < 1e-6, `gradient diff ${maxAbs(ga, gb)}`);
      tf.dispose([a, b, ga, gb]);
    }
    tf.dispose([logits, labels]);
  });
}

test('the loss works in tidy, grad, variableGrads and minimize, and leaks no tensor', (t) => {
  const { logits, labels } = lossProblem(40, [200], 5);
  const before = tf.memory().numTensors;
  const v = tf.variable(logits.clone());
  const opt = tf.train.sgd(0.1);
  opt.minimize(() => R.sigmoidFocalLoss(v, labels)); // the optimizer makes its state on the first step
  const afterSetup = tf.memory().numTensors;
  tf.tidy(() => { R.sigmoidFocalLoss(logits, labels); });
  const g = tf.grad((x) => R.sigmoidFocalLoss(x, labels))(logits);
  g.dispose();
  const { value, grads } = tf.variableGrads(() => R.sigmoidFocalLoss(v, labels));
  tf.dispose([value, grads]);
  const losses = [];
  for (let i = 0; i < 5; i++) {
    const c = opt.minimize(() => R.sigmoidFocalLoss(v, labels), true);
    losses.push(c.dataSync()[0]);
    c.dispose();
  }
  t.is(tf.memory().numTensors, afterSetup);
  for (let i = 1; i < losses.length; i++) t.true(losses[i] < losses[i - 1]);
  v.dispose();
  tf.dispose([logits, labels]);
  void before;
});

test('a tiny model trains with the native loss and follows the twin step for step', (t) => {
  const r = rng(41);
  const n = 400, d = 8, k = 4;
  const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => r.uniform(-1, 1)), [n, d]);
  // Labels from a hidden linear rule, so the loss can really go down.
  const hidden = tf.tensor2d(Float32Array.from({ length: d * k }, () => r.uniform(-2, 2)), [d, k]);
  const scores = tf.matMul(x, hidden).dataSync();
  const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (scores[i * k + c] > scores[i * k + best]) best = c;
    return scores[i * k + best] > 1 ? best : i % 10 === 0 ? -2 : -1;
  }), 'int32');
  const train = (lossFn) => {
    const w = tf.variable(tf.zeros([d, k]));
    const b = tf.variable(tf.fill([k], -Math.log(99)));
    const opt = tf.train.momentum(0.5, 0.9);
    const curve = [];
    let afterFirst = 0;
    for (let step = 0; step < 15; step++) {
      const c = opt.minimize(() => lossFn(tf.add(tf.matMul(x, w), b), labels), true);
      curve.push(c.dataSync()[0]);
      c.dispose();
      if (step === 0) afterFirst = tf.memory().numTensors; // the optimizer's state now exists
    }
    t.is(tf.memory().numTensors, afterFirst, 'no tensor leaks per step');
    tf.dispose([w, b]);
    opt.dispose();
    return curve;
  };
  const native = train((z, l) => R.sigmoidFocalLoss(z, l));
  const twin = train((z, l) => ref.sigmoidFocalLossRef(z, l));
  t.true(native[native.length - 1] < 0.7 * native[0], `loss ${native[0]} -> ${native[native.length - 1]}`);
  native.forEach((v, i) => t.true(Math.abs(v - twin[i]) < 1e-4 * Math.abs(twin[i]), `step ${i}: ${v} vs ${twin[i]}`));
  tf.dispose([x, hidden, labels]);
});

test('boxIou, encodeBoxes, decodeBoxes and generateAnchors equal their twins', (t) => {
  const r = rng(42);
  const a = tf.tensor2d(randomBoxes(r, 60, 600, 5, 200), [60, 4]);
  const b = tf.tensor2d(randomBoxes(r, 60, 600, 5, 200), [60, 4]);
  const iou = R.boxIou(a, b);
  const iouRef = ref.boxIouRef(a, b);
  t.true(maxAbs(iou, iouRef) < 1e-6);
  const enc = R.encodeBoxes(a, b, { weights: [10, 10, 5, 5] });
  const encRef = ref.encodeBoxesRef(a, b, [10, 10, 5, 5]);
  t.true(maxAbs(enc, encRef) < 1e-4);
  const dec = R.decodeBoxes(a, enc, { weights: [10, 10, 5, 5], clip: [500, 400] });
  const decRef = ref.decodeBoxesRef(a, encRef, [10, 10, 5, 5], [500, 400]);
  t.true(maxAbs(dec, decRef) < 1e-2);
  const anchors = R.generateAnchors({ height: 600, width: 800 });
  const anchorsRef = ref.generateAnchorsRef(600, 800);
  t.is(maxAbs(anchors.anchors, anchorsRef), 0);
  t.is(anchors.levels[0].count, 75 * 100 * 9);
  tf.dispose([a, b, iou, iouRef, enc, encRef, dec, decRef, anchors.anchors, anchorsRef]);
});

test('matchAnchors and retinanetTargets equal the IoU-matrix + argMax twin (batch, ragged, empty)', (t) => {
  const r = rng(43);
  const { anchors } = R.generateAnchors({ height: 256, width: 256 });
  const gts = [3, 0, 11].map((m) => tf.tensor2d(randomBoxes(r, m, 256, 8, 200), [m, 4]));
  const labels = [3, 0, 11].map((m) => tf.tensor1d(Int32Array.from({ length: m }, () => r.int(0, 20)), 'int32'));
  gts.forEach((gt) => {
    const m = R.matchAnchors(anchors, gt);
    const mr = ref.matchAnchorsRef(anchors, gt);
    t.is(maxAbs(m.matches, mr.matches), 0);
    t.true(maxAbs(m.maxIou, mr.maxIou) < 1e-6);
    tf.dispose([m.matches, m.maxIou, mr.matches, mr.maxIou]);
  });
  const batch = R.retinanetTargets(anchors, gts, labels);
  t.deepEqual(batch.labels.shape, [3, anchors.shape[0]]);
  gts.forEach((gt, i) => {
    const tr = ref.retinanetTargetsRef(anchors, gt, labels[i]);
    const li = batch.labels.slice([i, 0], [1, -1]).reshape([-1]);
    const bi = batch.boxTargets.slice([i, 0, 0], [1, -1, -1]).reshape([-1, 4]);
    t.is(maxAbs(li, tr.labels), 0);
    t.true(maxAbs(bi, tr.boxTargets) < 1e-4);
    t.is(batch.numForegroundPerImage[i], tr.numForeground);
    tf.dispose([li, bi, tr.labels, tr.boxTargets]);
  });
  tf.dispose([anchors, batch.labels, batch.boxTargets, batch.matches, ...gts, ...labels]);
});

test('batchedNms and postprocess equal tf.image.nonMaxSuppression / tf.topk twins', (t) => {
  const r = rng(44);
  const n = 2000;
  const boxes = tf.tensor2d(randomBoxes(r, n, 800, 10, 150), [n, 4]);
  const scores = tf.tensor1d(Float32Array.from({ length: n }, () => r()));
  const groups = tf.tensor1d(Int32Array.from({ length: n }, () => r.int(0, 20)), 'int32');
  const keep = R.batchedNms(boxes, scores, groups, 0.5);
  t.deepEqual(Array.from(keep.dataSync()), ref.batchedNmsRef(boxes, scores, groups, 0.5));
  const one = R.nms(boxes, scores, 0.3, { maxOutput: 50 });
  t.deepEqual(Array.from(one.dataSync()), ref.batchedNmsRef(boxes, scores, tf.zerosLike(groups), 0.3, 50));

  const k = 10;
  const { anchors, levels } = R.generateAnchors({ height: 256, width: 256 });
  const heads = levels.map((lv) => {
    const logits = Float32Array.from({ length: 2 * lv.count * k }, () => (r() < 0.01 ? r.uniform(-3, 4) : r.uniform(-9, -4)));
    const deltas = Float32Array.from({ length: 2 * lv.count * 4 }, () => r.uniform(-0.2, 0.2));
    return {
      logits: tf.tensor3d(logits, [2, lv.count, k]), deltas: tf.tensor3d(deltas, [2, lv.count, 4]),
      anchors: anchors.slice([lv.start, 0], [lv.count, 4]),
    };
  });
  const dets = R.postprocess(heads, [[256, 256], [200, 240]], { topKPerLevel: 100 });
  [[256, 256], [200, 240]].forEach((size, b) => {
    const perImage = heads.map((h) => ({
      logits: h.logits.slice([b, 0, 0], [1, -1, -1]).reshape([-1, k]),
      deltas: h.deltas.slice([b, 0, 0], [1, -1, -1]).reshape([-1, 4]), anchors: h.anchors,
    }));
    const want = ref.postprocessRef(perImage, size, { topK: 100 });
    t.true(want.scores.length > 0);
    t.deepEqual(Array.from(dets[b].classes.dataSync()), Array.from(want.classes));
    t.true(maxAbs(dets[b].scores, tf.tensor1d(want.scores)) < 1e-6);
    t.true(maxAbs(dets[b].boxes, tf.tensor2d(want.boxes, [want.scores.length, 4])) < 1e-3);
  });
  // Options reach the kernel as the caller gave them: box-coder weights as a Float32Array (as the
  // type allows) act exactly as the same numbers in an array, and differently from the default.
  const typed = R.postprocess(heads, [[256, 256], [200, 240]], { weights: new Float32Array([10, 10, 5, 5]) });
  const plain = R.postprocess(heads, [[256, 256], [200, 240]], { weights: [10, 10, 5, 5] });
  t.deepEqual(Array.from(typed[0].boxes.dataSync()), Array.from(plain[0].boxes.dataSync()));
  t.true(maxAbs(typed[0].boxes, dets[0].boxes) > 1e-3, 'the weights are applied');
  tf.disposeVariables();
});

test('tensor arguments are checked: dtype, rank, shapes, options', (t) => {
  const logits = tf.zeros([4, 3]);
  t.throws(() => R.sigmoidFocalLoss(logits, tf.zeros([4])), { instanceOf: TypeError, message: /labels.*int32/ });
  t.throws(() => R.sigmoidFocalLoss(logits, tf.zeros([3], 'int32')), { instanceOf: RangeError, message: /labels/ });
  t.throws(() => R.sigmoidFocalLoss(logits, tf.fill([4], 3, 'int32')), { instanceOf: RangeError, message: /labels\[0\] = 3/ });
  t.throws(() => R.sigmoidFocalLoss(logits.dataSync(), tf.zeros([4], 'int32')), { instanceOf: TypeError, message: /logits/ });
  t.throws(() => R.sigmoidFocalLoss(logits, tf.zeros([4], 'int32'), { gamma: -1 }), { instanceOf: RangeError, message: /gamma/ });
  t.throws(() => R.sigmoidFocalLoss(logits, tf.zeros([4], 'int32'), { beta: 1 }), { instanceOf: TypeError, message: /beta/ });
  t.throws(() => R.boxIou(tf.zeros([2, 4]), tf.zeros([8])), { instanceOf: RangeError, message: /^b:/ });
  t.throws(() => R.matchAnchors(tf.zeros([2, 4]), tf.zeros([2, 4], 'int32')), { instanceOf: TypeError, message: /gtBoxes/ });
  t.throws(() => R.matchAnchors(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[0, 0, 1, 1]]), { bgIou: 0.9 }), { instanceOf: RangeError, message: /bgIou/ });
  const disposed = tf.zeros([2, 4]);
  disposed.dispose();
  t.throws(() => R.boxIou(disposed, tf.zeros([2, 4])), { instanceOf: TypeError, message: /disposed/ });
});

test('tensor ops hand their options to the typed-array op as given: typed-array weights, NaN named, the caller\'s object unchanged', (t) => {
  const anchors = tf.tensor2d([[0, 0, 10, 10], [0, 0, 10, 14]]);
  const gt = tf.tensor2d([[0, 0, 10, 12]]);
  const weights = new Float32Array([10, 10, 5, 5]);
  const options = { weights };
  const [a, g] = [anchors.arraySync(), gt.arraySync()].map((x) => Float32Array.from(x.flat()));
  const want = R.ops.retinanetTargets(a, g, Int32Array.of(1), { weights: [10, 10, 5, 5] }).boxTargets;
  const got = R.retinanetTargets(anchors, [gt], [tf.tensor1d([1], 'int32')], options);
  t.deepEqual(Array.from(got.boxTargets.dataSync()), Array.from(want));
  t.deepEqual(Object.keys(options), ['weights']);
  t.is(options.weights, weights);
  // JSON once turned NaN into null and dropped undefined; the op now sees the value itself.
  t.throws(() => R.matchAnchors(anchors, gt, { fgIou: NaN }), { message: /fgIou.*NaN/ });
  t.throws(() => R.sigmoidFocalLoss(tf.zeros([2, 3]), tf.zeros([2], 'int32'), { gamma: NaN }), { message: /gamma.*NaN/ });
  t.throws(() => R.sigmoidFocalLoss(tf.zeros([2, 3]), tf.zeros([2], 'int32'), 3), { instanceOf: TypeError, message: /options/ });
  tf.dispose([anchors, gt, got.labels, got.boxTargets, got.matches]);
});

test('importing the package keeps tfjs\'s "install our node backend" banner away (wrong advice here), and leaves other tfjs warnings on', (t) => {
  const { spawnSync } = require('child_process');
  const script = "const R = require('.'); const tf = require('@tensorflow/tfjs'); tf.tensor([1, 2]).add(1).dataSync(); " +
    "console.log(tf.getBackend(), tf.env().getBool('PROD'));";
  const r = spawnSync(process.execPath, ['-e', script], { cwd: require('path').join(__dirname, '..'), encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'cpu false');
  t.notRegex(r.stdout + r.stderr, /install our node/);
});
