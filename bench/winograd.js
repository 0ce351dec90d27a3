#!/usr/bin/env node
'use strict';
// npm run bench:winograd: the 3x3 stride-1 convolutions of RetinaNet at 600 px (ResNet-50-FPN's
// heads and FPN outputs, ResNet's bottleneck middles, r18-small's layers) with the direct kernel
// and with Winograd F(4x4, 3x3), each in a fresh process (RETINANET_WINOGRAD=0 / 1), side by side
// in one run: forward, input gradient and filter gradient, median ms and the speed-up, and which of the two the
// default (unset) takes. Prints a table and writes
// bench/winograd.md and bench/winograd-results.json.
//   node bench/winograd.js [--quick]
const fs = require('fs');
const path = require('path');

const quick = process.argv.includes('--quick');
// [title, batch, size, in channels, out channels]
const SHAPES = [
  ['r50 head / FPN out at P3 (75×75, 256→256)', 1, 75, 256, 256],
  ['r50 head at P4 (38×38, 256→256)', 1, 38, 256, 256],
  ['r50 head at P5 (19×19, 256→256)', 1, 19, 256, 256],
  ['r50 class head\'s last conv at P3 (75×75, 256→720)', 1, 75, 256, 720],
  ['r50 class head\'s last conv at P4 (38×38, 256→720)', 1, 38, 256, 720],
  ['r50 box head\'s last conv at P3 (75×75, 256→36)', 1, 75, 256, 36],
  ['r50 C5 bottleneck middle (19×19, 512→512)', 1, 19, 512, 512],
  ['r50 head at P6 (10×10, 256→256)', 1, 10, 256, 256],
  ['r50 C3 bottleneck middle (75×75, 128→128)', 1, 75, 128, 128],
  ['r50 C2 bottleneck middle (150×150, 64→64)', 1, 150, 64, 64],
  ['r18-small head at P3 (75×75, 64→64)', 1, 75, 64, 64],
  ['training batch of 2, r50 head at P3', 2, 75, 256, 256],
];

if (process.env.RETINANET_BENCH_CHILD) {
  const ops = require('../dist/ops');
  ops.retainFreedMemory();
  ops.relaxGarbageCollection();  // likewise: docs/tfjs.md, "Garbage collection"
  const { medianCallMs } = require('./harness');
  const rand = require('../dist/util/prng').prng(7);
  const r = () => rand() - 0.5;
  // FNV-1a over the forward output's bits: which path the default took (its bits equal one run's).
  const hash = (y) => new Uint32Array(y.buffer, y.byteOffset, y.length).reduce((h, v) => Math.imul(h ^ v, 16777619) >>> 0, 2166136261);
  const rows = SHAPES.map(([title, batch, size, c, k]) => {
    const g = { batch, inHeight: size, inWidth: size, inChannels: c, filterHeight: 3, filterWidth: 3, outChannels: k,
      strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1, outHeight: size, outWidth: size };
    const x = Float32Array.from({ length: batch * size * size * c }, r);
    // Cold weights, as in a model (each layer's own, read once a pass): calls cycle through copies
    // that together exceed the caches (64 MB).
    const copies = Math.max(2, Math.ceil((64 << 20) / (36 * c * k)));
    const w0 = Float32Array.from({ length: 9 * c * k }, () => 0.1 * r());
    const ws = Array.from({ length: copies }, () => w0.slice());
    let call = 0;
    const w = () => ws[call++ % copies];
    const dy = Float32Array.from({ length: batch * size * size * k }, r);
    if (process.env.RETINANET_BENCH_CHILD === 'hash') return { hash: hash(ops.conv2d(x, w0, g)) };
    const time = (fn) => medianCallMs(fn, quick ? 300 : 1500);
    return {
      title, hash: hash(ops.conv2d(x, w0, g)), forwardMs: time(() => ops.conv2d(x, w(), g)),
      inputGradMs: time(() => ops.conv2dBackpropInput(dy, w(), g)), filterGradMs: time(() => ops.conv2dBackpropFilter(x, dy, g)),
    };
  });
  console.log(JSON.stringify({ threads: ops.numThreads(), rows }));
  process.exit(0);
}

const { machine, runFresh } = require('./harness');
const runs = {};
for (const mode of ['0', '1']) {
  runs[mode] = runFresh(__filename, { RETINANET_WINOGRAD: mode, RETINANET_BENCH_CHILD: '1' }, `bench:winograd: the RETINANET_WINOGRAD=${mode} run`);
}
const m = machine();
const lines = [`Machine: ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), Node ${m.node}; ${runs['0'].threads} thread(s).`, '',
  '| 3×3 stride-1 convolution | tiles | forward direct ms | Winograd ms | speed-up | input gradient direct ms | Winograd ms | speed-up | filter gradient direct ms | Winograd ms | speed-up | default (inference) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'];
// Which path the default (RETINANET_WINOGRAD unset) takes, from its forward output's bits.
const byDefault = runFresh(__filename, { RETINANET_WINOGRAD: undefined, RETINANET_BENCH_CHILD: 'hash' }, 'bench:winograd: the default run');
const tiles = ([, batch, size]) => batch * Math.ceil(size / 4) ** 2;
runs['0'].rows.forEach((d, i) => {
  const w = runs['1'].rows[i];
  const n = tiles(SHAPES[i]);
  lines.push(`| ${d.title} | ${n} | ${d.forwardMs.toFixed(1)} | ${w.forwardMs.toFixed(1)} | ${(d.forwardMs / w.forwardMs).toFixed(2)}× | ` +
    `${d.inputGradMs.toFixed(1)} | ${w.inputGradMs.toFixed(1)} | ${(d.inputGradMs / w.inputGradMs).toFixed(2)}× | ` +
    `${d.filterGradMs.toFixed(1)} | ${w.filterGradMs.toFixed(1)} | ${(d.filterGradMs / w.filterGradMs).toFixed(2)}× | ${byDefault.rows[i].hash === w.hash ? 'Winograd' : byDefault.rows[i].hash === d.hash ? 'direct' : '?'} |`);
});
console.log(lines.join('\n'));
fs.writeFileSync(path.join(__dirname, 'winograd.md'), `# Winograd F(4x4, 3x3) against the direct kernel\n\n${new Date().toISOString().slice(0, 10)}, ` +
  `\`npm run bench:winograd\` (median ms; each path in a fresh process; each call reads its own copy of the weights, cold as in a model). ${lines.join('\n')}\n`);
fs.writeFileSync(path.join(__dirname, 'winograd-results.json'), `${JSON.stringify({ machine: m, date: new Date().toISOString(), runs }, null, 1)}\n`);
