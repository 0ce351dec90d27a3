#!/usr/bin/env node
'use strict';
// npm run bench: every op at the paper's sizes, native vs a plain JS loop (and, for the loss,
// vs a plain copy of the same bytes: its physical floor), side by side in one run. Prints a
// table and writes bench/RESULTS.md.
//   node bench/run.js [--quick] [--only substring] [--torchvision]
// --torchvision (npm run bench:torchvision) also times torchvision's CPU ops on the very same
// inputs (shared through files, run by bench/torchvision.py) where Python has torch/torchvision.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const ops = require('../dist/ops');
const js = require('./js-ops');
const { runGroup, machine, table } = require('./harness');
const { prng: rng } = require('../dist/util/prng');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const withTorchvision = args.includes('--torchvision');
const timing = quick ? { maxTime: 0.5, minSamples: 3 } : { maxTime: 3, minSamples: 10 };

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

/** Head output at the prior (bias -log(99)) plus noise; labels from real matching. */
function lossProblem(r, n, k, anchors) {
  const { boxes, labels } = gtBoxes(r, 20, 600, 1000);
  const tg = ops.retinanetTargets(anchors.subarray(0, n * 4), boxes, labels);
  const logits = new Float32Array(n * k);
  for (let i = 0; i < logits.length; i++) logits[i] = -4.595 + 2 * (r() - 0.5);
  return { logits, labels: tg.labels, fg: Math.max(1, tg.numForeground) };
}

const groups = [];
const r = rng(2026);
const anchors600 = ops.generateAnchors({ height: 600, width: 1000 }).anchors; // 113,193 anchors

function want(name) {
  return only === undefined || name.includes(only);
}

for (const batch of [1, 2]) {
  const name = `focal loss fwd+bwd ${batch === 1 ? '' : '2 × '}100k × 80`;
  if (!want(name)) continue;
  const k = 80;
  const parts = Array.from({ length: batch }, () => lossProblem(r, 100000, k, anchors600));
  const logits = new Float32Array(parts.reduce((s, p) => s + p.logits.length, 0));
  const labels = new Int32Array(parts.reduce((s, p) => s + p.labels.length, 0));
  let off = 0;
  for (const p of parts) {
    logits.set(p.logits, off * k);
    labels.set(p.labels, off);
    off += p.labels.length;
  }
  const out = new Float32Array(logits.length);
  const copyDst = new Float32Array(logits.length);
  const fg = parts.reduce((s, p) => s + p.fg, 0);
  groups.push(runGroup(name, [
    { name: 'native, gradient into a given array', fn: () => ops.sigmoidFocalLoss(logits, labels, k, { out }) },
    { name: 'native, new gradient array', fn: () => ops.sigmoidFocalLoss(logits, labels, k) },
    { name: 'native, γ = 1.5 (generic power)', fn: () => ops.sigmoidFocalLoss(logits, labels, k, { gamma: 1.5, out }) },
    { name: 'native FL* (γ 2, β 1)', fn: () => ops.focalLossStar(logits, labels, k, { gamma: 2, beta: 1, out }) },
    { name: 'copy of the same bytes (floor)', fn: () => copyDst.set(logits) },
    { name: 'JS loop', fn: () => js.focalLossJs(logits, labels, k, 0.25, 2, fg, out) },
  ], timing));
}

if (want('matching')) {
  const { boxes } = gtBoxes(r, 20, 600, 1000);
  groups.push(runGroup(`matching ${anchors600.length / 4} anchors × 20 boxes`, [
    { name: 'native matchAnchors', fn: () => ops.matchAnchors(anchors600, boxes) },
    { name: 'JS loop (IoU matrix + argmax)', fn: () => js.matchJs(anchors600, boxes) },
  ], timing));
}
if (want('targets')) {
  const { boxes, labels } = gtBoxes(r, 20, 600, 1000);
  groups.push(runGroup(`targets ${anchors600.length / 4} anchors × 20 boxes`, [
    { name: 'native retinanetTargets', fn: () => ops.retinanetTargets(anchors600, boxes, labels) },
    { name: 'JS loop (match + label + encode)', fn: () => js.targetsJs(anchors600, boxes, labels) },
  ], timing));
}
if (want('anchors')) {
  groups.push(runGroup('anchors 800 × 1333 (200,700 anchors)', [
    { name: 'native generateAnchors', fn: () => ops.generateAnchors({ height: 800, width: 1333 }) },
    { name: 'JS loop', fn: () => js.anchorsJs(800, 1333) },
  ], timing));
}


// ---- NMS and post-processing (issue 3) ----

/** Candidates as after the per-level top-k: clustered around objects, mostly their class. */
function nmsCandidates(n, objects, classes, seed) {
  const rr = rng(seed);
  const obj = Array.from({ length: objects }, () => {
    const w = 20 + rr() * 250, h = 20 + rr() * 250;
    return { x: rr() * (1000 - w), y: rr() * (600 - h), w, h, c: Math.floor(rr() * classes) };
  });
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  const groups = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = obj[Math.floor(rr() * objects)];
    const j = () => (rr() - 0.5) * 0.3;
    const w = o.w * (1 + j()), h = o.h * (1 + j());
    const x = o.x + j() * o.w, y = o.y + j() * o.h;
    boxes.set([x, y, x + w, y + h], i * 4);
    scores[i] = 0.05 + 0.95 * rr();
    groups[i] = rr() < 0.7 ? o.c : Math.floor(rr() * classes);
  }
  return { boxes, scores, groups };
}

/** Head outputs of a trained-looking detector: most scores far below 0.05, a few thousand above. */
function headOutputs(height, width, k, above, seed) {
  const rr = rng(seed);
  const { anchors, levels } = ops.generateAnchors({ height, width });
  const total = anchors.length / 4;
  return levels.map((lv) => {
    const logits = new Float32Array(lv.count * k);
    for (let i = 0; i < logits.length; i++) logits[i] = -9 + 4 * rr(); // scores 1e-4 … 7e-3
    const hits = Math.round((above * lv.count) / total);
    for (let h = 0; h < hits; h++) logits[Math.floor(rr() * logits.length)] = -3 + 7 * rr();
    const deltas = new Float32Array(lv.count * 4).map(() => 0.4 * (rr() - 0.5));
    return { logits, deltas, anchors: anchors.slice(lv.start * 4, (lv.start + lv.count) * 4) };
  });
}

const tvCases = [];
const tvDir = withTorchvision ? fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-bench-')) : undefined;
function share(name, arr) {
  if (!tvDir) return name;
  fs.writeFileSync(path.join(tvDir, name), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
  return name;
}
const nmsGroups = [];
const groupScores = new Map();
const scoresOf = (g) => groupScores.get(g);

for (const [n, label] of [[5000, '5,000'], [50000, '50,000']]) {
  const { boxes, scores, groups } = nmsCandidates(n, n === 5000 ? 100 : 1000, 80, n);
  const g1 = `nms ${label} candidates, 1 class`;
  const g2 = `batchedNms ${label} candidates, 80 classes`;
  groupScores.set(g1, scores).set(g2, scores);
  if (want(g1)) {
    tvCases.push({ name: g1, kind: 'nms', iou: 0.5, boxes: share(`nb${n}.bin`, boxes), scores: share(`ns${n}.bin`, scores) });
    nmsGroups.push([g1, [
      { name: 'native nms', fn: () => ops.nms(boxes, scores, 0.5) },
      { name: 'JS greedy', fn: () => js.nmsJs(boxes, scores, 0.5) },
    ], () => ops.nms(boxes, scores, 0.5)]);
  }
  if (want(g2)) {
    tvCases.push({ name: g2, kind: 'batched_nms', iou: 0.5, boxes: share(`nb${n}.bin`, boxes), scores: share(`ns${n}.bin`, scores), groups: share(`ng${n}.bin`, groups) });
    nmsGroups.push([g2, [
      { name: 'native batchedNms', fn: () => ops.batchedNms(boxes, scores, groups, 0.5) },
      { name: 'JS greedy per class', fn: () => js.batchedNmsJs(boxes, scores, groups, 0.5) },
    ], () => ops.batchedNms(boxes, scores, groups, 0.5)]);
  }
}
for (const [h, w] of [[600, 600], [800, 1333]]) {
  const g = `postprocess ${h}×${w}, 80 classes`;
  if (!want(g)) continue;
  const levels = headOutputs(h, w, 80, 3000, h + w);
  tvCases.push({
    name: g, kind: 'postprocess', k: 80, height: h, width: w,
    levels: levels.map((lv, i) => ({
      logits: share(`pl${h}_${i}.bin`, lv.logits), deltas: share(`pd${h}_${i}.bin`, lv.deltas), anchors: share(`pa${h}_${i}.bin`, lv.anchors),
    })),
  });
  nmsGroups.push([g, [
    { name: 'native postprocess', fn: () => ops.postprocess(levels, 80, [[h, w]]) },
    { name: 'JS version', fn: () => js.postprocessJs(levels, 80, [h, w]) },
  ], () => ops.postprocess(levels, 80, [[h, w]])[0]]);
}

let tv;
if (withTorchvision && tvCases.length > 0) {
  fs.writeFileSync(path.join(tvDir, 'cases.json'), JSON.stringify(tvCases));
  const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  console.log(`\ntorchvision: timing ${tvCases.length} cases with ${py} (${ops.numThreads()} threads) …`);
  const res = spawnSync(py, [path.join(__dirname, 'torchvision.py'), tvDir, String(ops.numThreads())], { stdio: 'inherit' });
  if (res.status === 0) tv = JSON.parse(fs.readFileSync(path.join(tvDir, 'torchvision.json'), 'utf8'));
  else console.log('torchvision: not available (python3 with torch and torchvision is needed); its column is left out');
}

const agreement = [];
for (const [g, cases, result] of nmsGroups) {
  const rows = runGroup(g, cases, timing);
  const t = tv && tv.cases[g];
  if (t) {
    rows.push({ group: g, name: `torchvision ${tv.torchvision} (torch ${tv.threads} threads)`, medianMs: t.ms, rme: NaN, hz: 1000 / t.ms, samples: t.runs, ratio: t.ms / rows[0].medianMs });
    const ours = result();
    if (ArrayBuffer.isView(ours)) {
      const same = ours.length === t.keep.length && ours.every((v, i) => v === t.keep[i]);
      const theirs = new Set(t.keep);
      const sc = scoresOf(g);
      // Same set, and where the order differs the scores are equal (a tie).
      const sameSet = ours.length === t.keep.length && ours.every((v, i) => theirs.has(v) && sc[v] === sc[t.keep[i]]);
      // Equal scores: torchvision's final sort is not stable, ours puts the lower index first.
      const verdict = same ? 'the same kept indices in the same order as torchvision'
        : sameSet ? 'the same kept set as torchvision, ordered differently only among equal scores'
          : 'DIFFERENT kept indices from torchvision';
      agreement.push(`- ${g}: ${verdict} (${ours.length} kept).`);
    } else {
      const sameClasses = ours.classes.length === t.classes.length && ours.classes.every((c, i) => c === t.classes[i]);
      let maxDiff = 0;
      t.boxes.forEach((b, i) => { maxDiff = Math.max(maxDiff, Math.abs(b - ours.boxes[i])); });
      agreement.push(`- ${g}: ${ours.scores.length} detections; classes ${sameClasses ? 'identical' : 'DIFFER'} to torchvision's, boxes within ${maxDiff.toExponential(1)} px.`);
    }
  }
  groups.push(rows);
}
if (tvDir) fs.rmSync(tvDir, { recursive: true, force: true });

const rows = groups.flat();
const m = machine();
const ratioNote = (g, a, b) => {
  const ra = rows.find((x) => x.group === g && x.name === a);
  const rb = rows.find((x) => x.group === g && x.name === b);
  return ra && rb ? (rb.medianMs / ra.medianMs).toFixed(2) : 'n/a';
};
const summary = [];
for (const g of new Set(rows.map((x) => x.group))) {
  if (g.startsWith('focal loss')) {
    summary.push(`- ${g}: native is ${ratioNote(g, 'native, gradient into a given array', 'JS loop')}× faster than the JS loop; ` +
      `it takes ${ratioNote(g, 'copy of the same bytes (floor)', 'native, gradient into a given array')}× the time of copying the logits ` +
      `(${ratioNote(g, 'copy of the same bytes (floor)', 'native, new gradient array')}× when it allocates the gradient).`);
  } else {
    const inGroup = rows.filter((x) => x.group === g);
    const jsRow = inGroup.find((x) => x.name.startsWith('JS'));
    const tvRow = inGroup.find((x) => x.name.startsWith('torchvision'));
    let line = `- ${g}: native is ${(jsRow.medianMs / inGroup[0].medianMs).toFixed(2)}× faster than the JS version`;
    if (tvRow) line += ` and ${(tvRow.medianMs / inGroup[0].medianMs).toFixed(2)}× faster than torchvision`;
    summary.push(`${line}.`);
  }
}
console.log(`\n${table(rows)}\n\n${summary.join('\n')}${agreement.length ? `\n\n${agreement.join('\n')}` : ''}`);

if (!quick && only === undefined) {
  const md = `# Benchmark results

Latest \`npm run bench\` (${new Date().toISOString().slice(0, 10)}), every variant measured side by side in one run
with benchmark.js; median of the samples.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, addon threads: ${ops.numThreads()}.

${table(rows)}

${summary.join('\n')}
${agreement.length ? `\nSame inputs through torchvision (bench/torchvision.py):\n\n${agreement.join('\n')}\n` : ''}
`;
  fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
  console.log('\nwrote bench/RESULTS.md');
}
