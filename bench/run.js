#!/usr/bin/env node
'use strict';
// npm run bench: every op at the paper's sizes, native vs a plain JS loop (and, for the loss,
// vs a plain copy of the same bytes: its physical floor), side by side in one run. Prints a
// table and writes bench/RESULTS.md.
//   node bench/run.js [--quick] [--only substring]
const fs = require('fs');
const path = require('path');
const ops = require('../dist/ops');
const js = require('./js-ops');
const { runGroup, machine, table } = require('./harness');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const timing = quick ? { maxTime: 0.5, minSamples: 3 } : { maxTime: 3, minSamples: 10 };

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
    const first = rows.find((x) => x.group === g);
    const last = rows.filter((x) => x.group === g).pop();
    summary.push(`- ${g}: native is ${(last.medianMs / first.medianMs).toFixed(2)}× faster than the JS loop.`);
  }
}
console.log(`\n${table(rows)}\n\n${summary.join('\n')}`);

if (!quick && only === undefined) {
  const md = `# Benchmark results

Latest \`npm run bench\` (${new Date().toISOString().slice(0, 10)}), every variant measured side by side in one run
with benchmark.js; median of the samples.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, addon threads: ${ops.numThreads()}.

${table(rows)}

${summary.join('\n')}
`;
  fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
  console.log('\nwrote bench/RESULTS.md');
}
