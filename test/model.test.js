'use strict';
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { prng } = require('../dist/util/prng');

test('every level has the anchors\' shape for 600x600 and 800x1333 (tiny preset), and r50 at 128x160', (t) => {
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 5 });
  for (const [h, w] of [[600, 600], [800, 1333]]) {
    const heads = tf.tidy(() => m.forward(tf.zeros([1, h, w, 3])));
    const { levels } = m.anchors(h, w);
    heads.forEach((x, i) => {
      t.deepEqual(x.logits.shape, [1, levels[i].count, 5], `${h}x${w} P${levels[i].level} logits`);
      t.deepEqual(x.deltas.shape, [1, levels[i].count, 4], `${h}x${w} P${levels[i].level} deltas`);
    });
    tf.dispose(heads.flatMap((x) => [x.logits, x.deltas]));
  }
  m.dispose();
  const r50 = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 80 });
  t.true(r50.params.vars.has('backbone.body.layer3.5.conv3.weight'));
  t.true(r50.params.vars.has('head.classification_head.cls_logits.bias'));
  t.true(r50.params.vars.has('head.regression_head.bbox_reg.weight'));
  const heads = tf.tidy(() => r50.forward(tf.zeros([1, 128, 160, 3])));
  t.deepEqual(heads.map((x) => x.logits.shape[1]), r50.anchors(128, 160).levels.map((l) => l.count));
  tf.dispose(heads.flatMap((x) => [x.logits, x.deltas]));
  r50.dispose();
});

test('at initialisation the class subnet outputs the prior: probability 0.01 (§4.1)', (t) => {
  const m = R.createRetinaNet({ preset: 'retinanet-r18-small', numClasses: 4 });
  const p = tf.tidy(() => tf.sigmoid(tf.concat(m.forward(tf.randomNormal([1, 128, 128, 3], 0, 1, 'float32', 1)).map((x) => x.logits), 1)).mean().dataSync()[0]);
  t.true(Math.abs(p - 0.01) < 0.002, `mean probability ${p}`);
  t.is(m.params.get('head.classification_head.cls_logits.bias').dataSync()[0], Math.fround(-Math.log(99)));
  m.dispose();
});

test('training on synthetic squares: the loss falls, no tensor leaks, and the model then finds the objects', (t) => {
  const r = prng(3);
  const S = 96;
  const images = Array.from({ length: 8 }, () => {
    const px = new Float32Array(S * S * 3).map(() => r() * 0.2);
    const boxes = [], labels = [];
    for (let o = 0; o < 1 + Math.floor(r() * 2); o++) {
      const s = 24 + Math.floor(r() * 24), x = Math.floor(r() * (S - s)), y = Math.floor(r() * (S - s)), c = Math.floor(r() * 2);
      for (let yy = y; yy < y + s; yy++) for (let xx = x; xx < x + s; xx++) px[(yy * S + xx) * 3 + c] = 1;
      boxes.push(x, y, x + s, y + s);
      labels.push(c);
    }
    return { img: tf.tensor4d(px, [1, S, S, 3]), boxes: new Float32Array(boxes), labels: new Int32Array(labels) };
  });
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const trainer = new R.Trainer(m, { iterations: 50, learningRate: 0.005, warmupIterations: 10 });
  const losses = [];
  let tensorsAfterFirst = 0;
  for (let i = 0; i < 50; i++) {
    const a = images[(2 * i) % 8], b = images[(2 * i + 1) % 8];
    const batch = tf.concat([a.img, b.img]);
    losses.push(trainer.step(batch, [a.boxes, b.boxes], [a.labels, b.labels]).loss);
    batch.dispose();
    if (i === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  t.is(tf.memory().numTensors, tensorsAfterFirst, 'no tensor leaks over steps');
  const first = (losses[0] + losses[1]) / 2, last = (losses[48] + losses[49]) / 2;
  t.true(last < 0.5 * first, `loss ${first} -> ${last}`);
  // Each object of a training image is hit by some detection of its class with IoU > 0.4.
  let found = 0, total = 0;
  for (const im of images.slice(0, 4)) {
    const [d] = m.detect(im.img);
    for (let o = 0; o < im.labels.length; o++) {
      total++;
      const g = im.boxes.subarray(4 * o, 4 * o + 4);
      const gtBox = new Float32Array(g);
      const iou = d.boxes.length ? R.ops.boxIou(d.boxes, gtBox) : new Float32Array(0);
      if (Array.from(iou).some((v, i) => v > 0.4 && d.classes[i] === im.labels[o])) found++;
    }
  }
  t.true(found >= Math.ceil(total / 2), `found ${found} of ${total} objects`);
  trainer.dispose();
  m.dispose();
  tf.dispose(images.map((x) => x.img));
});

test('with maxRecoveries 0 a diverging run stops at once with a clear RangeError, and a step that meets a non-finite value changes no weight', (t) => {
  const r = prng(9);
  const S = 64;
  const img = tf.tensor4d(Float32Array.from({ length: 2 * S * S * 3 }, () => r()), [2, S, S, 3]);
  const boxes = [new Float32Array([8, 8, 40, 40]), new Float32Array([20, 4, 60, 30])];
  const labels = [new Int32Array([0]), new Int32Array([1])];
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const trainer = new R.Trainer(m, { iterations: 100, learningRate: 1e4, warmupIterations: 0, maxRecoveries: 0 });
  let error;
  for (let i = 0; i < 20 && !error; i++) {
    try { trainer.step(img, boxes, labels); } catch (e) { error = e; }
  }
  t.true(error instanceof RangeError, String(error));
  t.regex(error.message, /the loss is .* training diverged; lower the learning rate or set clipGradNorm/);
  trainer.dispose();
  m.dispose();
  // A NaN in an input image reaches the loss as non-finite logits: refused before any update.
  const m2 = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const before = new Map([...m2.params.vars].map(([k, v]) => [k, v.dataSync().slice()]));
  const bad = img.dataSync().slice();
  bad[5] = NaN;
  const nanImg = tf.tensor4d(bad, img.shape);
  const trainer2 = new R.Trainer(m2, { iterations: 100, maxRecoveries: 0 });
  t.throws(() => trainer2.step(nanImg, boxes, labels), { instanceOf: RangeError, message: /training diverged/ });
  for (const [k, v] of m2.params.vars) t.deepEqual(v.dataSync(), before.get(k), k);
  trainer2.dispose();
  m2.dispose();
  tf.dispose([img, nanImg]);
});

test('bad configs are refused', (t) => {
  t.throws(() => R.createRetinaNet({ numClasses: 0 }), { instanceOf: RangeError, message: /numClasses/ });
  t.throws(() => R.createRetinaNet({ preset: 'yolo', numClasses: 2 }), { instanceOf: RangeError, message: /preset/ });
  t.throws(() => R.createRetinaNet({ numClasses: 2, depth: 20 }), { instanceOf: RangeError, message: /depth/ });
});

test('trainable batch norm: batch statistics and torch\'s running-statistics update while training, running statistics otherwise; gradients equal the plain formula\'s', (t) => {
  const { Params, NormLayer } = require('../dist/model/params');
  const p = new Params(3);
  const bn = new NormLayer(p, 'bn', 5, 'bn');
  p.get('bn.weight').assign(tf.tensor1d([1, 2, 0.5, -1, 3]));
  p.get('bn.bias').assign(tf.tensor1d([0, 1, -1, 0.5, 2]));
  const x = tf.randomNormal([2, 3, 4, 5], 1.5, 2, 'float32', 9);
  const formula = (input, mean, variance) => tf.tidy(() => input.sub(mean).div(variance.add(1e-5).sqrt()).mul(p.get('bn.weight')).add(p.get('bn.bias')));
  const close = (a, b, tol, what) => {
    const d = tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
    t.true(d <= tol, `${what}: max diff ${d}`);
  };
  p.training = true;
  const y = bn.apply(x);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  close(y, formula(x, mean, variance), 1e-5, 'training output');
  close(p.get('bn.running_mean'), mean.mul(0.1), 1e-6, 'running mean');
  close(p.get('bn.running_var'), variance.mul(0.1 * 24 / 23).add(0.9), 1e-6, 'running variance (unbiased)');
  // Gradient through the batch statistics, against the same formula in plain tfjs ops.
  const r = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 4);
  const g1 = tf.grad((v) => bn.apply(v).mul(r).sum())(x);
  const g2 = tf.grad((v) => { const m = tf.moments(v, [0, 1, 2]); return formula(v, m.mean, m.variance).mul(r).sum(); })(x);
  close(g1, g2, 1e-4, 'dx');
  p.training = false;
  const runningMean = p.get('bn.running_mean').clone();
  const runningVar = p.get('bn.running_var').clone();
  close(bn.apply(x), formula(x, runningMean, runningVar), 1e-5, 'eval output uses the running statistics');
  close(p.get('bn.running_mean'), runningMean, 0, 'no update outside training');
  t.throws(() => new NormLayer(p, 'x', 4, 'batch'), { instanceOf: RangeError, message: /norm: expected one of/ });
  tf.dispose([x, y, mean, variance, r, g1, g2, runningMean, runningVar]);
  p.dispose();
});

test('a RetinaNet with trainable batch norm trains (its running statistics move) and detects', (t) => {
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', norm: 'bn', numClasses: 2 });
  const trainer = new R.Trainer(m, { iterations: 3, learningRate: 0.01, warmupIterations: 0 });
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 5);
  const before = m.params.get('backbone.body.bn1.running_mean').dataSync().slice();
  const boxes = [new Float32Array([4, 4, 40, 40]), new Float32Array([10, 20, 60, 50])];
  const labels = [new Int32Array([0]), new Int32Array([1])];
  const losses = [0, 1, 2].map(() => trainer.step(x, boxes, labels).loss);
  t.true(losses.every(Number.isFinite), `losses ${losses}`);
  t.notDeepEqual(Array.from(m.params.get('backbone.body.bn1.running_mean').dataSync()), Array.from(before));
  t.false(m.params.get('backbone.body.bn1.running_mean').trainable);
  t.true(m.params.get('backbone.body.bn1.weight').trainable);
  const [d] = m.detect(x.slice([0], [1]));
  t.true(d.scores.every((s) => s > 0.05 && s <= 1));
  trainer.dispose();
  m.dispose();
  x.dispose();
});

test('frozenBnEps: frozen BN computes w (x - mean) / sqrt(var + eps) + b with the configured eps (0 for torchvision\'s COCO v1 weights)', (t) => {
  const { Params, NormLayer } = require('../dist/model/params');
  const C = 3;
  const x = Float32Array.from({ length: 2 * 2 * C }, (_, i) => Math.sin(i + 1) * 3);
  const stats = { weight: [1.5, -0.5, 2], bias: [0.1, 0.2, -0.3], running_mean: [0.5, -1, 0], running_var: [1e-6, 4e-6, 2.5] };
  for (const eps of [0, 1e-5, 1e-3]) {
    const p = new Params(1, 32, eps);
    const n = new NormLayer(p, 'bn', C, 'frozen-bn');
    for (const [k, v] of Object.entries(stats)) p.vars.get(`bn.${k}`).assign(tf.tensor1d(v));
    const got = n.apply(tf.tensor4d(x, [1, 2, 2, C])).dataSync();
    for (let i = 0; i < x.length; i++) {
      const c = i % C;
      const want = (stats.weight[c] * (x[i] - stats.running_mean[c])) / Math.sqrt(stats.running_var[c] + eps) + stats.bias[c];
      t.true(Math.abs(got[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `eps ${eps}, element ${i}: ${got[i]} vs ${want}`);
    }
    tf.dispose([...p.vars.values()]);
  }
  // The model passes it on and a checkpoint's config keeps it.
  const m = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 2, widthMultiplier: 0.125, channels: 16, headDepth: 1, frozenBnEps: 0 });
  t.is(m.params.frozenBnEps, 0);
  t.is(m.config.frozenBnEps, 0);
  m.dispose();
  t.is(R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 }).config.frozenBnEps, 1e-5);
  t.throws(() => R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, frozenBnEps: -1 }), { instanceOf: RangeError, message: /frozenBnEps/ });
});

test('ConvNorm with frozen BN: the folded weights kept between inference calls equal conv then BN, follow every assigned weight, and under a tape the gradient reaches the weights; dispose frees them', async (t) => {
  const { Params, ConvNorm } = require('../dist/model/params');
  const r = prng(7);
  const rand = (shape, s = 1, o = 0) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => o + s * (r() * 2 - 1)), shape);
  const p = new Params(1, 32, 1e-5);
  const before = tf.memory().numTensors;
  const cn = new ConvNorm(p, 'c', 'bn', 4, 6, 3, 1, 'frozen-bn');
  const setStats = () => tf.tidy(() => {
    p.get('c.weight').assign(rand([3, 3, 4, 6], 0.5));
    p.get('bn.weight').assign(rand([6], 0.5, 1));
    p.get('bn.bias').assign(rand([6], 0.3));
    p.get('bn.running_mean').assign(rand([6], 0.2));
    p.get('bn.running_var').assign(rand([6], 0.4, 1));
  });
  // Independent reference: tfjs conv2d, then the BN formula on its output.
  const reference = (x, act) => tf.tidy(() => {
    const y = tf.conv2d(x, p.get('c.weight'), 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    const n = y.sub(p.get('bn.running_mean')).div(p.get('bn.running_var').add(1e-5).sqrt()).mul(p.get('bn.weight')).add(p.get('bn.bias'));
    return act ? tf.relu(n) : n;
  });
  const close = (a, b, what) => {
    const u = a.dataSync(), v = b.dataSync();
    let worst = 0;
    for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i] - v[i]) / Math.max(1, Math.abs(v[i])));
    t.true(worst < 1e-5, `${what}: worst relative difference ${worst}`);
    b.dispose();  // the reference
  };
  setStats();
  const x = rand([2, 5, 7, 4]);
  const y1 = cn.apply(x, 'relu');
  close(y1, reference(x, true), 'first call');
  let y2;
  const prof = await tf.profile(() => { y2 = cn.apply(x, 'relu'); });
  t.deepEqual(Array.from(y2.dataSync()), Array.from(y1.dataSync()), 'the kept weights give the same bits');
  t.deepEqual(prof.kernelNames.filter((k) => k !== 'unnamed scope'), ['FusedConv2D'], 'a second call runs the convolution alone (no fold)');
  // Each weight the fold reads, assigned anew, shows in the next call.
  for (const name of ['c.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var']) {
    const v = p.get(name);
    tf.tidy(() => v.assign(v.mul(1.5).add(0.1)));
    const y = cn.apply(x, 'linear');
    close(y, reference(x, false), `after assigning ${name}`);
    y.dispose();
  }
  // Under a tape the fold is remade: the conv weight's gradient equals the reference's.
  const w = p.get('c.weight');
  const gradOf = (f) => {
    const { value, grads } = tf.variableGrads(() => f().square().sum(), [w]);
    value.dispose();
    return grads[w.name];
  };
  const got = gradOf(() => cn.apply(x, 'relu'));
  const want = gradOf(() => reference(x, true));
  close(got, want, 'gradient of the conv weight');
  tf.dispose([x, y1, y2, got]);
  p.dispose();
  t.is(tf.memory().numTensors, before, 'dispose frees the variables and the kept fold');
});

test.serial('inference frees what it has used as it goes: peak tensor memory is a fraction of what the forward allocates, nothing leaks', async (t) => {
  // tf.profile's peakBytes over the bytes live before the call, against the bytes its kernels
  // allocate in all. Keeping every intermediate until detect's scope ends made this 0.29 (r18-tiny)
  // and 0.51 (r50) at 256 px; freeing each block's input, each head map and C3-C5 as soon as they
  // are used, 0.11 for both.
  for (const [preset, bound] of [['retinanet-r18-tiny', 0.2], ['retinanet-r50-fpn', 0.25]]) {
    const m = R.createRetinaNet({ preset, numClasses: 3 });
    const img = tf.randomNormal([1, 256, 256, 3], 0, 1, 'float32', 3);
    const before = m.detect(img);
    const tensors = tf.memory().numTensors, bytes = tf.memory().numBytes;
    let after;
    const p = await tf.profile(() => { after = m.detect(img); });
    const allocated = p.kernels.reduce((a, k) => a + k.bytesAdded, 0);
    t.true((p.peakBytes - bytes) / allocated < bound, `${preset}: peak ${p.peakBytes - bytes} of ${allocated} bytes allocated`);
    t.is(tf.memory().numTensors, tensors, `${preset}: detect left tensors behind`);
    t.deepEqual(Array.from(after[0].scores), Array.from(before[0].scores));
    img.dispose();
    m.dispose();
  }
});
