'use strict';
// The Trainer's rules (docs/training.md): the learning rate follows the batch, warm-up and steps,
// the loss normalizer's moving average, and recovery from divergence.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { prng } = require('../dist/util/prng');

function batch(seed, n = 2, S = 64) {
  const r = prng(seed);
  const img = tf.tensor4d(Float32Array.from({ length: n * S * S * 3 }, () => r()), [n, S, S, 3]);
  const boxes = [], labels = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(r() * 3);
    const b = [], l = [];
    for (let j = 0; j < k; j++) {
      const s = 16 + r() * 30, x = r() * (S - s), y = r() * (S - s);
      b.push(x, y, x + s, y + s);
      l.push(Math.floor(r() * 2));
    }
    boxes.push(new Float32Array(b));
    labels.push(new Int32Array(l));
  }
  return { img, boxes, labels };
}

const weightsOf = (m) => new Map([...m.params.vars].filter(([, v]) => v.trainable).map(([k, v]) => [k, v.dataSync().slice()]));

test('the default learning rate scales linearly with the batch: 0.08 x B / 16 from scratch, the paper\'s 0.01 x B / 16 with frozen BN; warm-up from 0.001x over min(1000, iterations / 10); ÷10 at 2/3 and 8/9', (t) => {
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const tr = new R.Trainer(m, { iterations: 900 });
  t.is(tr.options.warmupIterations, 90, 'min(1000, iterations / 10)');
  t.is(new R.Trainer(m, { iterations: 50000 }).options.warmupIterations, 1000);
  const close = (a, b, what) => t.true(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(tr.learningRateAt(0, 4), 0.02 * 0.001, 'start of warm-up, batch 4');
  close(tr.learningRateAt(45, 4), 0.02 * (0.001 + 0.999 * 0.5), 'half-way through warm-up');
  close(tr.learningRateAt(300, 4), 0.02, 'batch 4');
  close(tr.learningRateAt(300, 1), 0.08 / 16, 'batch 1');
  close(tr.learningRateAt(300, 16), 0.08, 'batch 16');
  close(tr.learningRateAt(600, 4), 0.002, 'after 2/3');
  close(tr.learningRateAt(800, 4), 0.0002, 'after 8/9');
  close(new R.Trainer(m, { iterations: 900, batchSize: 8 }).learningRateAt(300), 0.04, 'batchSize option');
  close(new R.Trainer(m, { iterations: 900, learningRate: 0.03 }).learningRateAt(300, 4), 0.03, 'a given rate is used as is');
  // Short runs: no ÷10 steps below 20 iterations, no warm-up below 10.
  const short = new R.Trainer(m, { iterations: 3 });
  t.deepEqual([0, 1, 2].map((i) => short.learningRateAt(i, 4)), [0.02, 0.02, 0.02]);
  const frozen = R.createRetinaNet({ preset: 'retinanet-r18-tiny', norm: 'frozen-bn', numClasses: 2 });
  close(new R.Trainer(frozen, { iterations: 900 }).learningRateAt(300, 16), 0.01, 'frozen BN (pretrained backbone): the paper\'s 0.01 for 16 images');
  frozen.dispose();
  // A step takes its batch from the images when batchSize is not given.
  const { img, boxes, labels } = batch(1, 2);
  const step = tr.step(img, boxes, labels);
  close(step.learningRate, (0.08 * 2) / 16 * 0.001, 'a 2-image step');
  for (const bad of [{ batchSize: 0 }, { batchSize: 1.5 }, { learningRate: -1 }, { normalizer: 'mean' }, { normalizerMomentum: 1 }, { maxRecoveries: -1 }]) {
    t.throws(() => new R.Trainer(m, { iterations: 10, ...bad }), { instanceOf: RangeError }, JSON.stringify(bad));
  }
  tr.dispose();
  m.dispose();
  img.dispose();
});

test('the loss is normalized by a moving average of the foreground count (momentum 0.9), or by the batch\'s own count', (t) => {
  const batches = [batch(2, 2), batch(3, 1), batch(4, 2), batch(5, 2)];
  for (const kind of ['ema', 'batch']) {
    const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, seed: 3 });
    const tr = new R.Trainer(m, { iterations: 100, learningRate: 0.001, warmupIterations: 0, normalizer: kind });
    let ema = null;
    for (const { img, boxes, labels } of batches) {
      // The count the step will see, and the loss it must report with the expected normalizer.
      const fg = R.ops.retinanetTargetsBatch(m.anchors(64, 64).anchors, boxes, labels, { numClasses: 2 }).numForeground;
      const count = Math.max(1, fg);
      const want = kind === 'batch' ? count : ema === null ? count : 0.9 * ema + 0.1 * count;
      const l = m.loss(img, boxes, labels, { normalizer: want });
      const loss = l.total.dataSync()[0];
      tf.dispose([l.total, l.classification, l.box]);
      const r = tr.step(img, boxes, labels);
      t.is(r.numForeground, fg);
      t.true(Math.abs(r.normalizer - want) < 1e-12, `${kind}: normalizer ${r.normalizer} vs ${want}`);
      t.is(r.loss, loss, `${kind}: the loss is divided by that normalizer`);
      ema = want;
    }
    t.is(tr.state().scalars.normalizer, kind === 'ema' ? ema : null);
    tr.dispose();
    m.dispose();
  }
  tf.dispose(batches.map((b) => b.img));
});

test('divergence is recovered from: back to a snapshot\'s weights and momentum at half the rate, until maxRecoveries; then a RangeError', (t) => {
  const { img, boxes, labels } = batch(6, 2);
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const initial = weightsOf(m);
  const tr = new R.Trainer(m, { iterations: 100, learningRate: 1e4, warmupIterations: 0 });
  const recoveries = [];
  let error;
  for (let i = 0; i < 60 && !error; i++) {
    try {
      const r = tr.step(img, boxes, labels);
      if (r.recovered) {
        recoveries.push(r.recovered);
        // Nothing of the diverged step was applied: the weights are the snapshot's (iteration 0's).
        t.is(r.recovered.resumedAt, 0);
        t.is(tr.iteration, 0);
        const now = weightsOf(m);
        t.true([...initial].every(([k, v]) => Buffer.compare(Buffer.from(v.buffer), Buffer.from(now.get(k).buffer)) === 0), 'weights restored');
        t.is(tr.state().velocities.size, 0, 'momentum restored (none at iteration 0)');
      }
    } catch (e) {
      error = e;
    }
  }
  t.deepEqual(recoveries.map((r) => r.lrScale), [0.5, 0.25, 0.125]);
  t.is(tr.lrScale, 0.125);
  t.true(error instanceof RangeError, String(error));
  t.regex(error.message, /training diverged after 3 recoveries .*; lower the learning rate or set clipGradNorm/);
  tr.dispose();
  m.dispose();
  img.dispose();
});

test('a poisoned batch (a NaN pixel) changes no weight: training goes back, and stops if it keeps coming', (t) => {
  const good = batch(7, 2);
  const bad = good.img.dataSync().slice();
  bad[123] = NaN;
  const poisoned = tf.tensor4d(bad, good.img.shape);
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const tr = new R.Trainer(m, { iterations: 100, learningRate: 0.002, warmupIterations: 0, maxRecoveries: 2 });
  tr.step(good.img, good.boxes, good.labels);
  const r = tr.step(poisoned, good.boxes, good.labels);
  t.truthy(r.recovered);
  t.regex(r.recovered.reason, /not finite/);
  t.is(r.recovered.iteration, 1);
  t.is(tr.iteration, 0, 'back to iteration 0 (the only snapshot)');
  t.true(tr.step(good.img, good.boxes, good.labels).recovered === undefined, 'good batches train on');
  t.truthy(tr.step(poisoned, good.boxes, good.labels).recovered);
  const before = weightsOf(m);
  t.throws(() => tr.step(poisoned, good.boxes, good.labels), { instanceOf: RangeError, message: /not finite .* training diverged after 2 recoveries/ });
  const after = weightsOf(m);
  t.true([...before].every(([k, v]) => Buffer.compare(Buffer.from(v.buffer), Buffer.from(after.get(k).buffer)) === 0), 'the refused step changed nothing');
  tr.dispose();
  m.dispose();
  tf.dispose([good.img, poisoned]);
});

test('a long run keeps two snapshots, each a copy of its moment: recovery after 160 steps restores iteration 100\'s weights and momentum exactly', (t) => {
  const good = batch(9, 1, 32);
  const bad = good.img.dataSync().slice();
  bad[5] = NaN;
  const poisoned = tf.tensor4d(bad, good.img.shape);
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, seed: 4 });
  const tr = new R.Trainer(m, { iterations: 1000, learningRate: 0.002, warmupIterations: 0 });
  let at100;
  // Snapshots at 0, 50, 100, 150: the last two kept, the one at 100 in arrays first used at 0.
  while (tr.iteration < 160) {
    if (tr.iteration === 100) at100 = { weights: weightsOf(m), momentum: tr.state().velocities };
    t.falsy(tr.step(good.img, good.boxes, good.labels).recovered);
  }
  const r = tr.step(poisoned, good.boxes, good.labels);
  t.is(r.recovered && r.recovered.resumedAt, 100, 'back to the older of the two kept');
  const now = weightsOf(m);
  t.true([...at100.weights].every(([k, v]) => Buffer.compare(Buffer.from(v.buffer), Buffer.from(now.get(k).buffer)) === 0), 'weights of iteration 100');
  const momentum = tr.state().velocities;
  t.is(momentum.size, at100.momentum.size);
  t.true([...at100.momentum].every(([k, v]) => Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(momentum.get(k).data.buffer)) === 0), 'momentum of iteration 100');
  tr.dispose();
  m.dispose();
  tf.dispose([good.img, poisoned]);
});

test('a loss spike (a corrupted batch with huge pixel values; a model without norm layers) is caught as divergence after 20 good steps', (t) => {
  const good = batch(8, 2);
  const huge = good.img.mul(3000);
  // One conv per subnet: deeper unnormalized heads saturate the logits and damp the spike.
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', norm: 'frozen-bn', headNorm: 'none', headDepth: 1, numClasses: 2 });
  const tr = new R.Trainer(m, { iterations: 100, learningRate: 0.001, warmupIterations: 0 });
  for (let i = 0; i < 20; i++) t.falsy(tr.step(good.img, good.boxes, good.labels).recovered);
  const r = tr.step(huge, good.boxes, good.labels);
  t.truthy(r.recovered, `loss ${r.loss}`);
  t.regex(r.recovered.reason, /per foreground anchor, over 10× its recent average/);
  t.is(tr.iteration, 0);
  tr.dispose();
  m.dispose();
  tf.dispose([good.img, huge]);
});

test('a checkpoint keeps the normalizer\'s average, the rate\'s scale and the recoveries, so a resumed run goes on exactly', (t) => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { img, boxes, labels } = batch(9, 2);
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const tr = new R.Trainer(m, { iterations: 100, batchSize: 2 });
  for (let i = 0; i < 3; i++) tr.step(img, boxes, labels);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-')), 'ck.safetensors');
  R.saveCheckpoint(file, m, tr, {});
  const ck = R.loadCheckpoint(file);
  t.deepEqual(ck.trainer.state().scalars, tr.state().scalars);
  t.is(ck.trainer.options.batchSize, 2);
  const a = tr.step(img, boxes, labels), b = ck.trainer.step(img, boxes, labels);
  t.is(b.loss, a.loss);
  t.is(b.normalizer, a.normalizer);
  t.is(b.learningRate, a.learningRate);
  tr.dispose();
  m.dispose();
  ck.trainer.dispose();
  ck.model.dispose();
  img.dispose();
});

test('trainingHealth: a model still at the prior is reported as collapsed, with both reasons', (t) => {
  const { trainingHealth } = require('../dist/model/health');
  const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 3);
  const flat = trainingHealth(m, Array.from({ length: 60 }, () => 1.15), x, [[64, 64], [64, 64]]);
  t.false(flat.ok);
  t.is(flat.reasons.length, 2, flat.reasons.join('; '));
  t.regex(flat.reasons[0], /classification loss ended at 1\.150, 100 % of where it started/);
  t.regex(flat.reasons[1], /no detection on 2 training images scores above 0\.05/);
  // Falling losses alone are not enough when nothing is detected; too few iterations are not judged by the loss.
  t.deepEqual(trainingHealth(m, Array.from({ length: 60 }, (_, i) => 1.2 - i / 60), x, [[64, 64], [64, 64]]).reasons.length, 1);
  const short = trainingHealth(m, [1.15, 1.15], x, [[64, 64], [64, 64]]);
  t.true(short.ok && !short.judged, 'too short to judge');
  m.dispose();
  x.dispose();
});

test('at the defaults, batches of 1 and of 16 both train: the loss falls, nothing diverges or is recovered from', (t) => {
  const S = 64;
  const r = prng(21);
  // Two classes of filled squares on noise: easy enough that 40 steps show learning at either batch.
  const pool = Array.from({ length: 32 }, () => {
    const px = new Float32Array(S * S * 3).map(() => r() * 0.3);
    const s = 16 + Math.floor(r() * 24), x = Math.floor(r() * (S - s)), y = Math.floor(r() * (S - s)), c = Math.floor(r() * 2);
    for (let yy = y; yy < y + s; yy++) for (let xx = x; xx < x + s; xx++) px[(yy * S + xx) * 3 + c] = 1;
    return { px, boxes: new Float32Array([x, y, x + s, y + s]), labels: new Int32Array([c]) };
  });
  for (const b of [1, 16]) {
    const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, seed: 4 });
    const tr = new R.Trainer(m, { iterations: 40 });
    const losses = [];
    for (let i = 0; i < 40; i++) {
      const items = Array.from({ length: b }, (_, j) => pool[(i * b + j) % pool.length]);
      const img = tf.tensor4d(Float32Array.from(items.flatMap((it) => Array.from(it.px))), [b, S, S, 3]);
      const res = tr.step(img, items.map((it) => it.boxes), items.map((it) => it.labels));
      img.dispose();
      t.falsy(res.recovered, `batch ${b}, step ${i}`);
      losses.push(res.loss);
    }
    const first = losses.slice(0, 5).reduce((a, c) => a + c) / 5, last = losses.slice(-5).reduce((a, c) => a + c) / 5;
    t.log(`batch ${b}: lr ${tr.baseLearningRate(b)}, loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    t.true(last < 0.7 * first, `batch ${b}: loss ${first} -> ${last}`);
    tr.dispose();
    m.dispose();
  }
});

test('trainableBackboneLayers (torchvision\'s trainable_backbone_layers): 3 leaves conv1 and layer1 as they were, trains layer2-4, FPN and heads; 5 trains all', (t) => {
  const stage = (name) => /^backbone\.body\.([^.]+)\./.exec(name)?.[1] ?? name.split('.').slice(0, 2).join('.');
  const changedStages = (layers) => {
    const m = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, trainableBackboneLayers: layers });
    const before = new Map([...m.params.vars].map(([k, v]) => [k, v.dataSync().slice()]));
    const tr = new R.Trainer(m, { iterations: 100, learningRate: 0.01, warmupIterations: 0 });
    const { img, boxes, labels } = batch(5);
    tr.step(img, boxes, labels);
    const changed = new Set();
    const frozen = new Set();
    for (const [k, v] of m.params.vars) {
      const same = v.dataSync().every((x, i) => x === before.get(k)[i]);
      if (!same) changed.add(stage(k));
      if (!v.trainable) frozen.add(stage(k));
    }
    tr.dispose();
    m.dispose();
    img.dispose();
    return { changed, frozen };
  };
  const three = changedStages(3);
  t.deepEqual([...three.frozen].sort(), ['bn1', 'conv1', 'layer1']);
  for (const s of ['conv1', 'bn1', 'layer1']) t.false(three.changed.has(s), `${s} is frozen`);
  for (const s of ['layer2', 'layer3', 'layer4', 'backbone.fpn', 'head.classification_head', 'head.regression_head']) t.true(three.changed.has(s), `${s} trains`);
  const five = changedStages(5);
  t.deepEqual([...five.frozen], []);
  for (const s of ['conv1', 'bn1', 'layer1', 'layer4']) t.true(five.changed.has(s), `${s} trains`);
  t.throws(() => R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, trainableBackboneLayers: 6 }), { instanceOf: RangeError, message: /trainableBackboneLayers/ });
});
