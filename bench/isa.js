#!/usr/bin/env node
'use strict';
// npm run bench:isa: the accelerator's convolutions at the paper's sizes on each vector path the
// CPU has (RETINANET_CPU_ISA = avx512, avx2, baseline; each in a fresh process), side by side in
// one run: GFLOP/s and the share of that path's own FMA peak, forward and both gradients.
// Prints a table and writes bench/isa.md and bench/isa-results.json.
//   node bench/isa.js [--quick]
const fs = require('fs');
const path = require('path');

const quick = process.argv.includes('--quick');

if (process.env.RETINANET_BENCH_ISA_CHILD) {
  // One path: median seconds per call of each pass of each shape, and this path's peak.
  const tf = require('@tensorflow/tfjs');
  require('..');
  const ops = require('../dist/ops');
  ops.retainFreedMemory();
  ops.relaxGarbageCollection();  // likewise: docs/tfjs.md, "Garbage collection"
  const { medianCallMs, CONV_SHAPES } = require('./harness');
  const { prng } = require('../dist/util/prng');
  const rows = [];
  for (const [title, xs, ws, stride, pad] of CONV_SHAPES) {
    const r = prng(xs[1] + ws[3]);
    const x = tf.tensor4d(Float32Array.from({ length: xs.reduce((a, b) => a * b) }, () => r() - 0.5), xs);
    const w = tf.tensor4d(Float32Array.from({ length: ws.reduce((a, b) => a * b) }, () => (r() - 0.5) * 0.1), ws);
    const y = tf.conv2d(x, w, stride, pad);
    const dy = tf.onesLike(y);
    const flops = 2 * y.size * ws[0] * ws[1] * ws[2];
    const passes = {
      forward: () => tf.conv2d(x, w, stride, pad).dispose(),
      'backprop input': () => tf.conv2dTranspose(dy, w, xs, stride, pad).dispose(),
      'backprop filter': () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: ws }).dispose(),
    };
    for (const [pass, fn] of Object.entries(passes)) {
      const seconds = medianCallMs(fn, quick ? 300 : 2000) / 1e3;
      rows.push({ shape: title, pass, seconds, gflops: flops / seconds / 1e9 });
    }
    tf.dispose([x, w, y, dy]);
  }
  // The peak loop is short (about 0.1 s): the best of 5, as bench/run.js takes it.
  const peak = Math.max(...Array.from({ length: 5 }, () => ops.fmaPeakGflops()));
  console.log(JSON.stringify({ isa: ops.cpuIsa(), peak, threads: ops.numThreads(), rows }));
  process.exit(0);
}

const { machine, runFresh } = require('./harness');
const RANK = { baseline: 0, avx2: 1, avx512: 2 };
const results = [];
for (const isa of ['avx512', 'avx2', 'baseline']) {
  process.stdout.write(`RETINANET_CPU_ISA=${isa} … `);
  const r = runFresh(__filename, { RETINANET_CPU_ISA: isa, RETINANET_BENCH_ISA_CHILD: '1' }, `bench:isa: the ${isa} run`);
  if (RANK[r.isa.active] < RANK[isa]) {
    console.log(`not on this CPU (best: ${r.isa.supported})`);
    continue;
  }
  console.log(`peak ${r.peak.toFixed(0)} GFLOP/s on ${r.threads} thread(s)`);
  results.push(r);
}
const m = machine();
const head = `Machine: ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), ${m.platform}, Node ${m.node}; ${results[0].threads} thread(s).`;
const lines = [head, '', `| shape | pass | ${results.map((r) => `${r.isa.active} GFLOP/s (% of its peak ${r.peak.toFixed(0)})`).join(' | ')} |`,
  `| --- | --- | ${results.map(() => '---:').join(' | ')} |`];
for (let i = 0; i < results[0].rows.length; i++) {
  const { shape, pass } = results[0].rows[i];
  lines.push(`| ${shape} | ${pass} | ${results.map((r) => `${r.rows[i].gflops.toFixed(0)} (${((100 * r.rows[i].gflops) / r.peak).toFixed(0)} %)`).join(' | ')} |`);
}
console.log(`\n${lines.join('\n')}`);
fs.writeFileSync(path.join(__dirname, 'isa.md'), `# The GEMM's vector paths\n\n${new Date().toISOString().slice(0, 10)}, \`npm run bench:isa\` ` +
  '(each path in a fresh process with RETINANET_CPU_ISA; its peak is the best of 5 runs of its own FMA loop). ' + `${lines.join('\n')}\n`);
fs.writeFileSync(path.join(__dirname, 'isa-results.json'), `${JSON.stringify({ machine: m, date: new Date().toISOString(), results }, null, 1)}\n`);
