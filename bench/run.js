#!/usr/bin/env node
'use strict';
// npm run bench: every op at the paper's sizes, side by side in one run:
//  - the typed-array ops (tfjs-retinanet/ops) vs a plain JS loop version (and, for the loss,
//    vs a plain copy of the same bytes: its physical floor);
//  - the tfjs kernels vs their pure-tfjs twins (lib/reference);
//  - with --torchvision (npm run bench:torchvision), torchvision's CPU ops on the very same
//    inputs (shared through files, run by bench/torchvision.py) where Python has them.
// Prints a table, writes bench/results.json and bench/RESULTS.md.
//   node bench/run.js [--quick] [--only substring] [--torchvision]
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const ops = require('../dist/ops');
ops.retainFreedMemory();  // as the `retinanet` command does: see docs/tfjs.md, "Memory"
const ref = require('../dist/reference');
const js = require('./js-ops');
const { runGroup, machine, table, CONV_SHAPES } = require('./harness');
const { prng } = require('../dist/util/prng');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const withTorchvision = args.includes('--torchvision');
const timing = quick ? { maxTime: 0.5, minSamples: 3 } : { maxTime: 3, minSamples: 10 };
const slowTiming = quick ? { maxTime: 0.1, minSamples: 1 } : { maxTime: 2, minSamples: 3 };
const want = (name) => only === undefined || name.includes(only);

// ---------------------------------------------------------------- inputs

function gtBoxes(r, m, h, w) {
  const boxes = new Float32Array(m * 4);
  const labels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const bw = 16 + r() * (w / 3), bh = 16 + r() * (h / 3);
    const x = r() * (w - bw), y = r() * (h - bh);
    boxes.set([x, y, x + bw, y + bh], i * 4);
    labels[i] = Math.floor(r() * 80);
  }
  return { boxes, labels };
}

/** batch × 100k anchors × 80 classes: head output at the prior (bias -log 99) plus noise, labels from matching. */
function lossInputs(r, batch, anchors) {
  const n = 100000, k = 80;
  const logits = new Float32Array(batch * n * k);
  const labels = new Int32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    const { boxes, labels: gl } = gtBoxes(r, 20, 600, 1000);
    labels.set(ops.retinanetTargets(anchors.subarray(0, n * 4), boxes, gl).labels, b * n);
  }
  for (let i = 0; i < logits.length; i++) logits[i] = -4.595 + 2 * (r() - 0.5);
  let fg = 0;
  for (const l of labels) if (l >= 0) fg++;
  return { logits, labels, k, n: batch * n, fg: Math.max(1, fg) };
}

/** Candidates as after the per-level top-k: clustered around objects, mostly their class. */
function nmsInputs(n, objects, classes, seed) {
  const r = prng(seed);
  const obj = Array.from({ length: objects }, () => {
    const w = 20 + r() * 250, h = 20 + r() * 250;
    return { x: r() * (1000 - w), y: r() * (600 - h), w, h, c: Math.floor(r() * classes) };
  });
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  const groups = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = obj[Math.floor(r() * objects)];
    const j = () => (r() - 0.5) * 0.3;
    const w = o.w * (1 + j()), h = o.h * (1 + j());
    const x = o.x + j() * o.w, y = o.y + j() * o.h;
    boxes.set([x, y, x + w, y + h], i * 4);
    scores[i] = 0.05 + 0.95 * r();
    groups[i] = r() < 0.7 ? o.c : Math.floor(r() * classes);
  }
  return { boxes, scores, groups };
}

/** Head outputs of a trained-looking detector: almost all scores far below 0.05, ~3,000 above. */
function headOutputs(height, width, k, above, seed) {
  const r = prng(seed);
  const { anchors, levels } = ops.generateAnchors({ height, width });
  const total = anchors.length / 4;
  return levels.map((lv) => {
    const logits = new Float32Array(lv.count * k);
    for (let i = 0; i < logits.length; i++) logits[i] = -9 + 4 * r();
    const hits = Math.round((above * lv.count) / total);
    for (let h = 0; h < hits; h++) logits[Math.floor(r() * logits.length)] = -3 + 7 * r();
    const deltas = new Float32Array(lv.count * 4).map(() => 0.4 * (r() - 0.5));
    return { logits, deltas, anchors: anchors.slice(lv.start * 4, (lv.start + lv.count) * 4) };
  });
}

// ---------------------------------------------------------------- groups
// Each group: { title, cases: [{ name, fn }], timing, tv?: case spec for bench/torchvision.py,
// result?: () => our result, compared with torchvision's }.

const tvDir = withTorchvision ? fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-bench-')) : undefined;
const share = (name, arr) => {
  if (tvDir) fs.writeFileSync(path.join(tvDir, name), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  return name;
};
const groups = [];
const r = prng(2026);
const anchors600 = ops.generateAnchors({ height: 600, width: 1000 }).anchors; // 113,193 anchors
const nAnchors = (anchors600.length / 4).toLocaleString('en-US');

for (const batch of [1, 2]) {
  const title = `focal loss fwd+bwd ${batch === 1 ? '' : '2 × '}100k × 80`;
  const tTitle = `tfjs: ${title}`;
  if (!want(title) && !want(tTitle)) continue;
  const p = lossInputs(r, batch, anchors600);
  const out = new Float32Array(p.logits.length);
  const copyDst = new Float32Array(p.logits.length);
  if (want(title)) groups.push({
    title, timing, kind: 'loss',
    tv: { kind: 'focal_loss', k: p.k, logits: share(`fl${batch}.bin`, p.logits), labels: share(`fll${batch}.bin`, p.labels) },
    cases: [
      { name: 'native, gradient into a given array', fn: () => ops.sigmoidFocalLoss(p.logits, p.labels, p.k, { out }) },
      { name: 'native, new gradient array', fn: () => ops.sigmoidFocalLoss(p.logits, p.labels, p.k) },
      { name: 'native, γ = 1.5 (generic power)', fn: () => ops.sigmoidFocalLoss(p.logits, p.labels, p.k, { gamma: 1.5, out }) },
      { name: 'native FL* (γ 2, β 1)', fn: () => ops.focalLossStar(p.logits, p.labels, p.k, { gamma: 2, beta: 1, out }) },
      { name: 'copy of the same bytes (floor)', fn: () => copyDst.set(p.logits) },
      { name: 'JS loop', fn: () => js.focalLossJs(p.logits, p.labels, p.k, 0.25, 2, p.fg, out), slow: true },
    ],
  });
  if (want(tTitle)) {
    const logits = tf.tensor2d(p.logits, [p.n, p.k]);
    const labels = tf.tensor1d(p.labels, 'int32');
    groups.push({
      title: tTitle, timing,
      cases: [
        { name: 'native kernel (tf.grad)', fn: () => tf.grad((x) => R.sigmoidFocalLoss(x, labels))(logits).dispose() },
        { name: 'pure-tfjs twin (tf.grad)', fn: () => tf.grad((x) => ref.sigmoidFocalLossRef(x, labels))(logits).dispose(), slow: true },
      ],
    });
  }
}

{
  const { boxes, labels } = gtBoxes(r, 20, 600, 1000);
  const title = `matching ${nAnchors} anchors × 20 boxes`;
  if (want(title)) {
    groups.push({
      title, timing, tv: { kind: 'match', anchors: share('ma.bin', anchors600), gt: share('mg.bin', boxes) },
      result: () => ops.matchAnchors(anchors600, boxes).matches,
      cases: [
        { name: 'native matchAnchors', fn: () => ops.matchAnchors(anchors600, boxes) },
        { name: 'JS loop (IoU matrix + argmax)', fn: () => js.matchJs(anchors600, boxes) },
      ],
    });
  }
  const tTitle = `targets ${nAnchors} anchors × 20 boxes`;
  if (want(tTitle)) {
    groups.push({
      title: tTitle, timing,
      tv: { kind: 'targets', anchors: share('ma.bin', anchors600), gt: share('mg.bin', boxes), labels: share('ml.bin', labels) },
      cases: [
        { name: 'native retinanetTargets', fn: () => ops.retinanetTargets(anchors600, boxes, labels) },
        { name: 'JS loop (match + label + encode)', fn: () => js.targetsJs(anchors600, boxes, labels) },
      ],
    });
  }
  const kTitle = `tfjs: matching ${nAnchors} anchors × 20 boxes`;
  if (want(kTitle)) {
    const a = tf.tensor2d(anchors600, [anchors600.length / 4, 4]);
    const g = tf.tensor2d(boxes, [20, 4]);
    groups.push({
      title: kTitle, timing,
      cases: [
        { name: 'native kernel', fn: () => tf.dispose(R.matchAnchors(a, g)) },
        { name: 'pure-tfjs twin (IoU matrix + argMax)', fn: () => tf.dispose(ref.matchAnchorsRef(a, g)), slow: true },
      ],
    });
  }
}

if (want('anchors')) {
  groups.push({
    title: 'anchors 800 × 1333 (200,700 anchors)', timing,
    cases: [
      { name: 'native generateAnchors', fn: () => ops.generateAnchors({ height: 800, width: 1333 }) },
      { name: 'JS loop', fn: () => js.anchorsJs(800, 1333) },
    ],
  });
}

for (const [n, label] of [[5000, '5,000'], [50000, '50,000']]) {
  const { boxes, scores, groups: classes } = nmsInputs(n, n === 5000 ? 100 : 1000, 80, n);
  const files = { boxes: share(`nb${n}.bin`, boxes), scores: share(`ns${n}.bin`, scores) };
  const tie = { scores };
  const t1 = `nms ${label} candidates, 1 class`;
  if (want(t1)) {
    groups.push({
      title: t1, timing, tv: { kind: 'nms', iou: 0.5, ...files }, result: () => ops.nms(boxes, scores, 0.5), tie,
      cases: [
        { name: 'native nms', fn: () => ops.nms(boxes, scores, 0.5) },
        { name: 'JS greedy', fn: () => js.nmsJs(boxes, scores, 0.5) },
      ],
    });
  }
  const t2 = `batchedNms ${label} candidates, 80 classes`;
  if (want(t2)) {
    groups.push({
      title: t2, timing, tv: { kind: 'batched_nms', iou: 0.5, ...files, groups: share(`ng${n}.bin`, classes) },
      result: () => ops.batchedNms(boxes, scores, classes, 0.5), tie,
      cases: [
        { name: 'native batchedNms', fn: () => ops.batchedNms(boxes, scores, classes, 0.5) },
        { name: 'JS greedy per class', fn: () => js.batchedNmsJs(boxes, scores, classes, 0.5) },
      ],
    });
  }
  const t3 = `tfjs: batchedNms ${label} candidates, 80 classes`;
  if (n === 5000 && want(t3)) {
    const b = tf.tensor2d(boxes, [n, 4]), s = tf.tensor1d(scores), c = tf.tensor1d(classes, 'int32');
    groups.push({
      title: t3, timing,
      cases: [
        { name: 'native kernel', fn: () => R.batchedNms(b, s, c, 0.5).dispose() },
        { name: 'pure-tfjs twin (tf.image.nonMaxSuppression per class)', fn: () => ref.batchedNmsRef(b, s, c, 0.5), slow: true },
      ],
    });
  }
}

for (const [h, w] of [[600, 600], [800, 1333]]) {
  const title = `postprocess ${h}×${w}, 80 classes`;
  const tTitle = `tfjs: ${title}`;
  if (!want(title) && !want(tTitle)) continue;
  const levels = headOutputs(h, w, 80, 3000, h + w);
  if (want(title)) {
    groups.push({
      title, timing, result: () => ops.postprocess(levels, 80, [[h, w]])[0],
      tv: {
        kind: 'postprocess', k: 80, height: h, width: w,
        levels: levels.map((lv, i) => ({
          logits: share(`pl${h}_${i}.bin`, lv.logits), deltas: share(`pd${h}_${i}.bin`, lv.deltas), anchors: share(`pa${h}_${i}.bin`, lv.anchors),
        })),
      },
      cases: [
        { name: 'native postprocess', fn: () => ops.postprocess(levels, 80, [[h, w]]) },
        { name: 'JS version', fn: () => js.postprocessJs(levels, 80, [h, w]) },
      ],
    });
  }
  if (want(tTitle)) {
    const tl = levels.map((lv) => ({
      logits: tf.tensor3d(lv.logits, [1, lv.logits.length / 80, 80]), deltas: tf.tensor3d(lv.deltas, [1, lv.deltas.length / 4, 4]),
      anchors: tf.tensor2d(lv.anchors, [lv.anchors.length / 4, 4]),
    }));
    const perImage = tl.map((lv) => ({ logits: lv.logits.reshape([-1, 80]), deltas: lv.deltas.reshape([-1, 4]), anchors: lv.anchors }));
    groups.push({
      title: tTitle, timing,
      cases: [
        { name: 'native kernel', fn: () => R.postprocess(tl, [[h, w]]).forEach((d) => tf.dispose([d.boxes, d.scores, d.classes])) },
        { name: 'pure-tfjs twin (tf.topk + tf.image.nonMaxSuppression)', fn: () => ref.postprocessRef(perImage, [h, w]), slow: true },
      ],
    });
  }
}

// ---------------------------------------------------------------- convolutions (native cpu kernels)

function convCase(xs, ws, stride, pad, seed) {
  const cr = prng(seed);
  const x = tf.tensor4d(Float32Array.from({ length: xs.reduce((a, b) => a * b) }, () => cr() - 0.5), xs);
  const w = tf.tensor4d(Float32Array.from({ length: ws.reduce((a, b) => a * b) }, () => (cr() - 0.5) * 0.1), ws);
  const y = tf.conv2d(x, w, stride, pad);
  const dy = tf.onesLike(y);
  return {
    x, w, flops: 2 * y.size * ws[0] * ws[1] * ws[2],
    fwd: () => tf.conv2d(x, w, stride, pad).dispose(),
    bwdInput: () => tf.conv2dTranspose(dy, w, xs, stride, pad).dispose(),
    // The kernel itself (tf.grad would add a forward pass).
    bwdFilter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: ws }).dispose(),
  };
}

for (const [title, xs, ws, stride, pad] of CONV_SHAPES) {
  if (!want(title) && !want('conv')) continue;
  const full = convCase(xs, ws, stride, pad, xs[1] + ws[3]);
  // tfjs's own kernels take seconds to minutes per call at these sizes (its backprop filter over
  // 100 s): they run once on a crop of the same layer (same channels and filter, 1/16 of the
  // pixels), and are compared by GFLOP/s, a rate.
  const crop = convCase([xs[0], Math.ceil(xs[1] / 4), Math.ceil(xs[2] / 4), xs[3]], ws, stride, pad, 7);
  const own = (fn) => () => { R.useNativeCpuKernels(false); try { fn(); } finally { R.useNativeCpuKernels(true); } };
  const cropName = ` (${Math.ceil(xs[1] / 4)}×${Math.ceil(xs[2] / 4)} crop)`;
  groups.push({
    title, timing, flops: full.flops,
    tv: { kind: 'conv', x: share(`cx${xs[1]}_${ws[3]}.bin`, full.x.dataSync()), xShape: xs, w: share(`cw${xs[1]}_${ws[3]}.bin`, full.w.dataSync()), wShape: ws, stride, pad },
    cases: [
      { name: 'native forward', fn: full.fwd },
      { name: 'native backprop input', fn: full.bwdInput },
      { name: 'native backprop filter', fn: full.bwdFilter },
      { name: `tfjs's own forward${cropName}`, fn: own(crop.fwd), slow: true, once: true, flops: crop.flops },
      { name: `tfjs's own backprop input${cropName}`, fn: own(crop.bwdInput), slow: true, once: true, flops: crop.flops },
      { name: `tfjs's own backprop filter${cropName}`, fn: own(crop.bwdFilter), slow: true, once: true, flops: crop.flops },
    ],
  });
}

// ---------------------------------------------------------------- GroupNorm and max pool (native kernels)

{
  const title = 'GroupNorm 32 groups, 4 × 64×64×64 (ResNet stem, GN preset)';
  if (want(title) || want('group norm')) {
    const gr = prng(11);
    const shape = [4, 64, 64, 64];
    const x = tf.tensor4d(Float32Array.from({ length: 4 * 64 * 64 * 64 }, () => gr() - 0.5), shape);
    const gamma = tf.tensor1d(Float32Array.from({ length: 64 }, () => 0.5 + gr()));
    const beta = tf.tensor1d(Float32Array.from({ length: 64 }, () => gr() - 0.5));
    const dy = tf.tensor4d(Float32Array.from({ length: 4 * 64 * 64 * 64 }, () => gr() - 0.5), shape);
    const [, mean, rstd] = tf.engine().runKernel(R.GROUP_NORM, { x, gamma, beta }, { groups: 32, eps: 1e-5 });
    // The backward kernels themselves, from the same dy (tf.grad would add a forward pass and the loss's ops).
    const twinGrads = tf.grads((a, g, b) => ref.groupNormRef(a, g, b, 32));
    groups.push({
      title, timing,
      cases: [
        { name: 'native kernel, forward', fn: () => R.groupNorm(x, gamma, beta, 32).dispose() },
        { name: 'native backward kernel (dx, dγ, dβ in one call)', fn: () => tf.dispose(tf.engine().runKernel(R.GROUP_NORM_GRAD, { dy, x, mean, rstd, gamma }, { groups: 32 })) },
        { name: 'pure-tfjs twin, forward', fn: () => ref.groupNormRef(x, gamma, beta, 32).dispose(), slow: true },
        { name: 'pure-tfjs twin, forward + tf.grads', fn: () => tf.dispose(twinGrads([x, gamma, beta], dy)), slow: true },
      ],
    });
  }
}
{
  const title = 'max pool 3×3 stride 2 pad 1, 4 × 128×128×64 (ResNet stem)';
  if (want(title) || want('max pool')) {
    const mr = prng(12);
    const x = tf.tensor4d(Float32Array.from({ length: 4 * 128 * 128 * 64 }, () => mr() - 0.5), [4, 128, 128, 64]);
    const y = tf.maxPool(x, 3, 2, 1);
    const dy = tf.onesLike(y);
    const attrs = { filterSize: 3, strides: 2, pad: 1, dimRoundingMode: undefined };
    const fwd = () => tf.maxPool(x, 3, 2, 1).dispose();
    const bwd = () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs).dispose();
    const own = (fn) => () => { R.useNativeCpuKernels(false); try { fn(); } finally { R.useNativeCpuKernels(true); } };
    groups.push({
      title, timing,
      cases: [
        { name: 'native MaxPool', fn: fwd },
        { name: 'native MaxPoolGrad', fn: bwd },
        { name: "tfjs's own MaxPool", fn: own(fwd), slow: true },
        { name: "tfjs's own MaxPoolGrad", fn: own(bwd), slow: true, once: true },
      ],
    });
  }
}

{
  const title = 'elementwise and sum, 4 × 64×64×64 (a ResNet stage in training)';
  if (want(title) || want('elementwise')) {
    const er = prng(13);
    const shape = [4, 64, 64, 64];
    const rand = (n) => Float32Array.from({ length: n }, () => er() - 0.5);
    const x = tf.tensor4d(rand(4 * 64 * 64 * 64), shape);
    const y = tf.tensor4d(rand(4 * 64 * 64 * 64), shape);
    const c = tf.tensor1d(rand(64));
    const cases = [
      ['Multiply, equal shapes', () => tf.mul(x, y).dispose()],
      ['Add of a per-channel [64]', () => tf.add(x, c).dispose()],
      ['Relu', () => tf.relu(x).dispose()],
      ["Step (ReLU's gradient)", () => tf.step(x).dispose()],
      ['Sum over [0, 1, 2] (bias gradient)', () => tf.sum(x, [0, 1, 2]).dispose()],
      ['Sum of everything', () => tf.sum(x).dispose()],
    ];
    const own = (fn) => () => { R.useNativeCpuKernels(false); try { fn(); } finally { R.useNativeCpuKernels(true); } };
    groups.push({
      title, timing,
      cases: [
        ...cases.map(([name, fn]) => ({ name: `native ${name}`, fn })),
        ...cases.map(([name, fn]) => ({ name: `tfjs's own ${name}`, fn: own(fn), slow: true })),
      ],
    });
  }
}

// ---------------------------------------------------------------- torchvision

let tv;
const tvCases = groups.filter((g) => g.tv).map((g) => ({ name: g.title, ...g.tv }));
if (withTorchvision && tvCases.length > 0) {
  fs.writeFileSync(path.join(tvDir, 'cases.json'), JSON.stringify(tvCases));
  const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  console.log(`torchvision: timing ${tvCases.length} cases with ${py} (${ops.numThreads()} threads) …`);
  const res = spawnSync(py, [path.join(__dirname, 'torchvision.py'), tvDir, String(ops.numThreads())], { stdio: 'inherit' });
  if (res.status === 0) tv = JSON.parse(fs.readFileSync(path.join(tvDir, 'torchvision.json'), 'utf8'));
  else console.log('torchvision: not available (python3 with torch and torchvision is needed); its column is left out');
}
if (tvDir) fs.rmSync(tvDir, { recursive: true, force: true });

function agreementWith(g, t) {
  if (!g.result) return undefined;
  const ours = g.result();
  if (ArrayBuffer.isView(ours) && t.keep) {
    const same = ours.length === t.keep.length && ours.every((v, i) => v === t.keep[i]);
    const theirs = new Set(t.keep);
    const sc = g.tie.scores;
    const tiesOnly = ours.length === t.keep.length && ours.every((v, i) => theirs.has(v) && sc[v] === sc[t.keep[i]]);
    return same ? `the same kept indices in the same order as torchvision (${ours.length} kept)`
      : tiesOnly ? `the same kept set as torchvision, ordered differently only among equal scores (${ours.length} kept)`
        : `DIFFERENT kept indices from torchvision (${ours.length} vs ${t.keep.length})`;
  }
  if (ArrayBuffer.isView(ours) && t.matches) {
    let diff = 0;
    ours.forEach((m, i) => { if (m !== t.matches[i]) diff++; });
    return diff === 0 ? `identical matches to torchvision's Matcher (${ours.length} anchors)` : `${diff} matches DIFFER from torchvision's`;
  }
  const same = ours.classes.length === t.classes.length && ours.classes.every((c, i) => c === t.classes[i]);
  let maxDiff = 0;
  t.boxes.forEach((b, i) => { maxDiff = Math.max(maxDiff, Math.abs(b - ours.boxes[i])); });
  return `${ours.scores.length} detections; classes ${same ? 'identical' : 'DIFFER'} to torchvision's, boxes within ${maxDiff.toExponential(1)} px`;
}

// ---------------------------------------------------------------- run

const rows = [];
const agreement = [];
for (const g of groups) {
  const slow = g.cases.filter((c) => c.slow);
  const fast = g.cases.filter((c) => !c.slow);
  const groupRows = runGroup(g.title, fast, g.timing);
  if (slow.length) groupRows.push(...runGroup('', slow, slow.some((c) => c.once) ? { maxTime: 0.1, minSamples: 1 } : slowTiming));
  for (const row of groupRows) row.group = g.title;
  const t = tv && tv.cases[g.title];
  if (t && t.fwdMs !== undefined) {
    const name = `torch ${tv.torch} (${tv.threads} threads)`;
    groupRows.push({ group: g.title, name: `${name} forward`, medianMs: t.fwdMs, rme: NaN, hz: 1000 / t.fwdMs, samples: t.runs });
    groupRows.push({ group: g.title, name: `${name} backward (input + filter)`, medianMs: t.bwdMs, rme: NaN, hz: 1000 / t.bwdMs, samples: t.runs });
  } else if (t) {
    groupRows.push({ group: g.title, name: `torchvision ${tv.torchvision} (torch ${tv.threads} threads)`, medianMs: t.ms, rme: NaN, hz: 1000 / t.ms, samples: t.runs });
    const a = agreementWith(g, t);
    if (a) agreement.push(`- ${g.title}: ${a}.`);
  }
  for (const row of groupRows) {
    row.ratio = row.medianMs / groupRows[0].medianMs;
    const c = g.cases.find((x) => x.name === row.name);
    // torch's backward row times both passes: twice the forward's flops.
    if (g.flops) row.flops = (c && c.flops) || (row.name.includes('backward (input') ? 2 : 1) * g.flops;
  }
  rows.push(...groupRows);
}

const summary = [];
// Best of 5 short runs: the peak is a limit, and a busy neighbour only ever lowers a run.
const peak = groups.some((g) => g.flops) ? Math.max(...Array.from({ length: 5 }, () => ops.fmaPeakGflops())) : undefined;
if (peak) summary.push(`- machine peak (register-only FMA loop, ${ops.numThreads()} threads, best of 5): ${peak.toFixed(0)} GFLOP/s.`);
for (const g of groups.filter((x) => x.flops)) {
  const gf = (name) => {
    const row = rows.find((x) => x.group === g.title && x.name.startsWith(name));
    return row ? row.flops / row.medianMs / 1e6 : NaN;
  };
  const f = (v) => (Number.isNaN(v) ? 'n/a' : v.toFixed(1));
  const torchF = gf(`torch ${tv ? tv.torch : ''} (${ops.numThreads()} threads) forward`);
  const torchB = gf(`torch ${tv ? tv.torch : ''} (${ops.numThreads()} threads) backward`);
  summary.push(`- ${g.title}: native ${f(gf('native forward'))} / ${f(gf('native backprop input'))} / ${f(gf('native backprop filter'))} GFLOP/s ` +
    `(forward / backprop input / backprop filter; ${f(100 * gf('native forward') / peak)}% of peak forward), tfjs's own ${f(gf("tfjs's own forward"))} / ` +
    `${f(gf("tfjs's own backprop input"))} / ${f(gf("tfjs's own backprop filter"))}` +
    (Number.isNaN(torchF) ? '' : `, torch ${f(torchF)} forward and ${f(torchB)} for both backward passes together`) + '.');
}
for (const title of new Set(rows.filter((x) => !groups.find((g) => g.title === x.group && g.flops)).map((x) => x.group))) {
  const inGroup = rows.filter((x) => x.group === title);
  const [first] = inGroup;
  const by = (prefix) => inGroup.find((x) => x.name.startsWith(prefix));
  const parts = [];
  const base = by('JS') || by('pure-tfjs') || by("tfjs's own");
  const baseName = base && (base.name.startsWith('JS') ? 'JS version' : base.name.startsWith('pure-tfjs') ? 'pure-tfjs twin' : 'tfjs kernel');
  if (base) parts.push(`${(base.medianMs / first.medianMs).toFixed(1)}× faster than the ${baseName}`);
  const torch = by('torchvision');
  if (torch) parts.push(`${(torch.medianMs / first.medianMs).toFixed(1)}× faster than torchvision`);
  const copy = by('copy');
  if (copy) parts.push(`${(first.medianMs / copy.medianMs).toFixed(2)}× the time of copying the logits`);
  summary.push(`- ${title}: ${first.name} is ${parts.join(', ')}.`);
}
console.log(`\n${table(rows)}\n\n${summary.join('\n')}${agreement.length ? `\n\n${agreement.join('\n')}` : ''}`);

if (!quick && only === undefined) {
  const m = machine();
  fs.writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify({
    date: new Date().toISOString(), machine: m, threads: ops.numThreads(), torchvision: tv ? { torch: tv.torch, torchvision: tv.torchvision } : null,
    rows: rows.map(({ group, name, medianMs, rme, hz, samples, ratio, flops }) => ({
      group, name, medianMs, rme: Number.isNaN(rme) ? null : rme, hz, samples, ratio,
      ...(flops ? { gflops: flops / medianMs / 1e6 } : {}),
    })),
  }, null, 2)}\n`);
  // The model benchmark (bench/model.js) keeps its own section at the end.
  const resultsFile = path.join(__dirname, 'RESULTS.md');
  const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
  const modelSection = previous.includes('<!-- model-benchmark -->') ? `\n${previous.slice(previous.indexOf('<!-- model-benchmark -->'))}` : '';
  fs.writeFileSync(resultsFile, `# Benchmark results

Latest \`npm run bench${tv ? ':torchvision' : ''}\` (${new Date().toISOString().slice(0, 10)}): every variant measured side by side in one
run with benchmark.js (median of the samples; "× vs first" divides by the group's first row)${tv ? `, torchvision ${tv.torchvision} / torch ${tv.torch} timed by bench/torchvision.py on the same inputs with the same thread count` : ''}.
Raw numbers: [results.json](results.json).

Machine: ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, addon threads: ${ops.numThreads()}.

${table(rows)}

${summary.join('\n')}
${agreement.length ? `\nSame inputs through torchvision:\n\n${agreement.join('\n')}\n` : ''}${modelSection}`);
  console.log('\nwrote bench/results.json and bench/RESULTS.md');
}
