#!/usr/bin/env node
'use strict';
// npm run bench:profile: where the time of an inference and of a training step goes, kernel by
// kernel (tf.profile), for a preset at a size: each kernel name's share, the convolutions by
// shape, and the time outside any kernel (JavaScript between kernels: tape bookkeeping,
// allocation, GC), page faults and system time. Prints the tables and writes bench/profile.md with the machine.
//   node bench/profile.js [--preset retinanet-r50-fpn] [--size 600] [--batch 2]
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const R = require('..');
R.ops.retainFreedMemory();
R.ops.relaxGarbageCollection();  // likewise: docs/tfjs.md, "Garbage collection"
tf.env().set('PROD', true);
const { machine, median } = require('./harness');

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const preset = opt('preset', 'retinanet-r50-fpn');
const size = Number(opt('size', '600'));
const batch = Number(opt('batch', '2'));

const model = R.createRetinaNet({ preset, numClasses: 80 });
const trainer = new R.Trainer(model, { iterations: 1e6, learningRate: 1e-4 });
const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1);
const images = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2);
const s = size;
const boxes = Array.from({ length: batch }, () => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
const labels = Array.from({ length: batch }, () => new Int32Array([0, 1]));

const conv = (name) => /Conv|FusedConv|MatMul|GroupNorm|MaxPool/.test(name);

async function profile(title, fn) {
  fn();  // warm-up: scratch buffers, packed sizes
  // The median of 3 calls: one call's wall time moves by 20 % with GC and page faults. Their page
  // faults and kernel (system) CPU time: fresh memory faulting in.
  const u0 = process.resourceUsage();
  const wallMs = median([0, 1, 2].map(() => {
    const t0 = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }));
  const u1 = process.resourceUsage();
  const faults = (u1.minorPageFault - u0.minorPageFault) / 3;
  const sysMs = (u1.systemCPUTime - u0.systemCPUTime) / 3e3;
  const userMs = (u1.userCPUTime - u0.userCPUTime) / 3e3;
  const prof = await tf.profile(fn);
  const byName = new Map();
  const byShape = new Map();
  let kernelMs = 0;
  for (const k of prof.kernels) {
    // A custom op's scope (tf.customGrad) is listed around the kernels it runs: counted once, there.
    if (k.name === 'unnamed scope') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    kernelMs += ms;
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n++;
    byName.set(k.name, e);
    if (conv(k.name)) {
      const key = `${k.name} ${k.inputShapes.map((x) => `[${x}]`).join(' ')}`;
      const c = byShape.get(key) ?? { ms: 0, n: 0 };
      c.ms += ms;
      c.n++;
      byShape.set(key, c);
    }
  }
  const lines = [`### ${title}`, '', `Wall ${wallMs.toFixed(0)} ms without the profiler; under it the kernels sum to ${kernelMs.toFixed(0)} ms ` +
    `(${prof.kernels.filter((k) => k.name !== 'unnamed scope').length} kernel calls); outside any kernel (JavaScript between them) about ${Math.max(0, wallMs - kernelMs).toFixed(0)} ms ` +
    `(${(100 * Math.max(0, wallMs - kernelMs) / wallMs).toFixed(0)} %). Per call: ${faults.toFixed(0)} minor page faults, ` +
    `CPU time ${userMs.toFixed(0)} ms user + ${sysMs.toFixed(0)} ms system (the kernel's share: page faults, thread wake-ups).`, '',
  '| kernel | ms | calls | share of the kernels |', '| --- | ---: | ---: | ---: |'];
  for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    lines.push(`| ${name} | ${e.ms.toFixed(1)} | ${e.n} | ${(100 * e.ms / kernelMs).toFixed(1)} % |`);
  }
  lines.push('', 'The heaviest shapes (convolutions, matmuls, norms, pooling):', '', '| kernel and input shapes | ms | calls | share |', '| --- | ---: | ---: | ---: |');
  for (const [key, e] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    lines.push(`| ${key} | ${e.ms.toFixed(1)} | ${e.n} | ${(100 * e.ms / kernelMs).toFixed(1)} % |`);
  }
  const text = lines.join('\n');
  console.log(`\n${text}`);
  return text;
}

(async () => {
  const m = machine();
  const head = `# Profile: ${preset} at ${size} px\n\n${new Date().toISOString().slice(0, 10)}, ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), ` +
    `${R.ops.numThreads()} thread(s), FMA peak ${R.ops.fmaPeakGflops().toFixed(0)} GFLOP/s (${R.ops.cpuIsa().active}), Node ${m.node}. ` +
    'Written by `npm run bench:profile`; kernel times from tf.profile (each kernel forced to finish).';
  console.log(head);
  const parts = [head];
  parts.push(await profile('Inference, one image, detections included', () => model.detect(image)));
  parts.push(await profile(`Training step, ${batch} images`, () => trainer.step(images, boxes, labels)));
  fs.writeFileSync(path.join(__dirname, 'profile.md'), `${parts.join('\n\n')}\n`);
})();
