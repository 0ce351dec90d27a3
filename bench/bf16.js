#!/usr/bin/env node
'use strict';
// npm run bench:bf16: the opt-in bfloat16 inference against float32, side by side in one process
// (ops.setInferencePrecision between calls): the forward of the benchmark's convolution shapes
// (GFLOP/s and % of the float32 FMA peak) and RetinaNet-R50-FPN's inference at 600 px (80
// classes, random weights, detections included), with how far the bfloat16 outputs move.
// Writes bench/bf16.md and bench/bf16-results.json; exits 1 where the CPU lacks AVX512-BF16.
//   node bench/bf16.js [--quick]
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { machine, median, medianCallMs, CONV_SHAPES } = require('./harness');

R.ops.retainFreedMemory();
R.ops.relaxGarbageCollection();  // as the `retinanet` command does: docs/tfjs.md, "Garbage collection"

const quick = process.argv.includes('--quick');
if (!R.ops.cpuIsa().bfloat16) {
  console.error(`bench:bf16: this CPU has no AVX512-BF16 in use (cpuIsa: ${JSON.stringify(R.ops.cpuIsa())}); nothing to measure`);
  process.exit(1);
}
const m = machine();
const peak = Math.max(...Array.from({ length: 5 }, () => R.ops.fmaPeakGflops()));
console.error(`bench:bf16 on ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), ${R.ops.numThreads()} thread(s), float32 FMA peak ${peak.toFixed(0)} GFLOP/s`);

const both = (fn) => {
  const out = {};
  for (const p of ['float32', 'bfloat16']) {
    R.ops.setInferencePrecision(p);
    out[p] = fn();
  }
  R.ops.setInferencePrecision('float32');
  return out;
};

const convRows = CONV_SHAPES.map(([title, xs, ws, stride, pad]) => {
  const x = tf.randomNormal(xs, 0, 1, 'float32', 1);
  const w = tf.randomNormal(ws, 0, 0.05, 'float32', 2);
  const probe = tf.conv2d(x, w, stride, pad);
  const flops = 2 * probe.size * ws[0] * ws[1] * ws[2];
  probe.dispose();
  const ms = both(() => medianCallMs(() => tf.conv2d(x, w, stride, pad).dispose(), quick ? 300 : 1500));
  tf.dispose([x, w]);
  console.error(`  ${title}: float32 ${ms.float32.toFixed(2)} ms, bfloat16 ${ms.bfloat16.toFixed(2)} ms`);
  return { title, flops, ms };
});

// The model: inference per image at 600 px, and the bfloat16 outputs against float32's.
const model = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 80 });
const image = tf.randomNormal([1, 600, 600, 3], 0, 1, 'float32', 3);
const runs = quick ? 3 : 7;
const detect = () => model.detect(image, { scoreThreshold: 0.05, maxDetections: 100 });
const timeModel = () => {
  detect();
  return median(Array.from({ length: runs }, () => {
    const t0 = process.hrtime.bigint();
    detect();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }));
};
const modelMs = both(timeModel);
const logits = both(() => tf.tidy(() => tf.concat(model.forward(image).map((h) => h.logits.reshape([-1]))).dataSync()));
let worst = 0, scale = 0;
for (let i = 0; i < logits.float32.length; i++) {
  worst = Math.max(worst, Math.abs(logits.float32[i] - logits.bfloat16[i]));
  scale = Math.max(scale, Math.abs(logits.float32[i]));
}
console.error(`  retinanet-r50-fpn inference: float32 ${modelMs.float32.toFixed(0)} ms, bfloat16 ${modelMs.bfloat16.toFixed(0)} ms; logits differ by up to ${worst.toPrecision(3)} (largest |logit| ${scale.toFixed(2)})`);

const lines = [
  `${new Date().toISOString().slice(0, 10)}, \`npm run bench:bf16\` (median ms, both precisions in one process). Machine: ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), Node ${m.node}; ${R.ops.numThreads()} thread(s); float32 FMA peak ${peak.toFixed(0)} GFLOP/s (${R.ops.cpuIsa().active}).`,
  '',
  '| forward | float32 ms | GFLOP/s (% of peak) | bfloat16 ms | GFLOP/s (% of float32 peak) | speed-up |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...convRows.map((r) => {
    const g = (ms) => r.flops / ms / 1e6;
    return `| ${r.title} | ${r.ms.float32.toFixed(2)} | ${g(r.ms.float32).toFixed(0)} (${(100 * g(r.ms.float32) / peak).toFixed(0)} %) | ` +
      `${r.ms.bfloat16.toFixed(2)} | ${g(r.ms.bfloat16).toFixed(0)} (${(100 * g(r.ms.bfloat16) / peak).toFixed(0)} %) | ${(r.ms.float32 / r.ms.bfloat16).toFixed(2)}× |`;
  }),
  `| retinanet-r50-fpn inference per image, 600 px, detections included | ${modelMs.float32.toFixed(0)} | | ${modelMs.bfloat16.toFixed(0)} | | ${(modelMs.float32 / modelMs.bfloat16).toFixed(2)}× |`,
  '',
  `The model's class logits (random weights, one random image) move by up to ${worst.toPrecision(3)} in bfloat16 (largest |logit| ${scale.toFixed(2)}).`,
];
console.log(lines.join('\n'));
fs.writeFileSync(path.join(__dirname, 'bf16.md'), `# bfloat16 inference against float32\n\n${lines.join('\n')}\n`);
fs.writeFileSync(path.join(__dirname, 'bf16-results.json'), `${JSON.stringify({ machine: { ...m, peak }, date: new Date().toISOString(), convRows, modelMs, logitsMaxDiff: worst }, null, 1)}\n`);
