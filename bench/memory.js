#!/usr/bin/env node
'use strict';
// npm run bench:memory: peak resident memory (RSS, as the OS counts it: getrusage's maxrss) of
// retinanet-r50-fpn at 600 px, 80 classes, random weights — an inference (detections included)
// and a training step of 2 images (SGD) — against torchvision's retinanet_resnet50_fpn doing the
// same (bench/torchvision_model.py's model, Debian's torch) and ONNX Runtime's inference of its
// export (bench/onnx-model.js). Every case runs in a fresh process of its own: a warm-up call and
// the measured calls of bench:model, then the process's peak RSS and its RSS before the model
// existed (the runtime itself: Node + tfjs, or Python + torch). Ours twice: as the library runs
// by default, and with ops.retainFreedMemory() and ops.relaxGarbageCollection() as the `retinanet`
// command runs (freed tensors' memory stays in the process, V8 collects less often; docs/tfjs.md,
// "Memory" and "Garbage collection").
// Prints a table and writes RESULTS.md's memory section and bench/memory-results.json.
//   node bench/memory.js [--size 600] [--no-torchvision] [--no-onnx]
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const size = Number(flag('size', '600'));
const rssMiB = () => process.resourceUsage().maxRSS / 1024;  // maxRSS is in KiB

async function child(mode) {
  const R = require('..');
  const tf = require('@tensorflow/tfjs');
  if (process.env.RETINANET_BENCH_RETAIN === '1') {
    R.ops.retainFreedMemory();
    R.ops.relaxGarbageCollection();
  }
  const before = process.memoryUsage().rss / 2 ** 20;
  if (mode === 'onnx') {
    const { onnxRuntimeInference } = require('./onnx-model');
    const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    const r = await onnxRuntimeInference({ size, threads: R.ops.numThreads(), python: py });
    if (!r.measured) return { skipped: r.skipped || r.failed };
    return { beforeMiB: before, peakMiB: rssMiB(), note: `onnxruntime-node ${r.ort}` };
  }
  const m = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 80 });
  const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1);
  if (mode === 'inference') {
    for (let i = 0; i < 4; i++) m.detect(image);  // warm-up + bench:model's 3 runs
  } else {
    const batch2 = tf.concat([image, image]);
    const s = size;
    const boxes = [0, 1].map(() => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
    const labels = [0, 1].map(() => new Int32Array([0, 1]));
    const trainer = new R.Trainer(m, { iterations: 1e6, learningRate: 1e-5 });
    for (let i = 0; i < 4; i++) trainer.step(batch2, boxes, labels);  // warm-up + bench:model's 3 runs
  }
  return { beforeMiB: before, peakMiB: rssMiB() };
}

if (process.env.RETINANET_BENCH_MEMORY_CHILD) {
  child(process.env.RETINANET_BENCH_MEMORY_CHILD).then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  }, (e) => {
    console.error(e.stack || e.message);
    process.exit(1);
  });
  return;
}

function fresh(mode, env = {}) {
  const p = spawnSync(process.execPath, [__filename, ...args], {
    env: { ...process.env, ...env, RETINANET_BENCH_MEMORY_CHILD: mode }, encoding: 'utf8', maxBuffer: 1 << 24,
  });
  if (p.status !== 0) throw new Error(`bench:memory: the ${mode} run failed (status ${p.status}):\n${p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

function torchvision(mode) {
  const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const R = require('..');
  const p = spawnSync(py, [path.join(__dirname, 'torchvision_model.py'), String(size), String(R.ops.numThreads()), mode], { encoding: 'utf8' });
  if (p.status !== 0) return { skipped: `${py}: ${((p.stderr || (p.error && p.error.message) || '').trim().split('\n').pop())}` };
  const r = JSON.parse(p.stdout.trim().split('\n').pop());
  return { beforeMiB: r.rssBeforeMiB, peakMiB: r.maxRssMiB, note: `torch ${r.torch}, torchvision ${r.torchvision}` };
}

const { machine } = require('./harness');
const m = machine();
const cases = [
  ['this project, inference (library default)', () => fresh('inference')],
  ['this project, inference (retainFreedMemory and relaxGarbageCollection, as the `retinanet` command)', () => fresh('inference', { RETINANET_BENCH_RETAIN: '1' })],
  ['torchvision, inference', () => (args.includes('--no-torchvision') ? { skipped: '--no-torchvision' } : torchvision('inference'))],
  ['ONNX Runtime, inference', () => (args.includes('--no-onnx') ? { skipped: '--no-onnx' } : fresh('onnx'))],
  ['this project, training step (library default)', () => fresh('train')],
  ['this project, training step (retainFreedMemory and relaxGarbageCollection, as the `retinanet` command)', () => fresh('train', { RETINANET_BENCH_RETAIN: '1' })],
  ['torchvision, training step', () => (args.includes('--no-torchvision') ? { skipped: '--no-torchvision' } : torchvision('train'))],
];
const rows = [];
for (const [name, run] of cases) {
  process.stderr.write(`${name} … `);
  const r = run();
  process.stderr.write(r.skipped ? `skipped: ${r.skipped}\n` : `peak ${r.peakMiB.toFixed(0)} MiB\n`);
  rows.push({ name, ...r });
}
const f = (v) => v.toFixed(0);
const lines = [
  `${new Date().toISOString().slice(0, 10)}, \`npm run bench:memory\`, ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), Node ${m.node}: retinanet-r50-fpn at ${size}×${size}, 80 classes (torchvision: its retinanet_resnet50_fpn, 91), random weights; each case a fresh process.`,
  '',
  '| case | peak RSS MiB | RSS before the model MiB | peak − before MiB | |',
  '| --- | ---: | ---: | ---: | --- |',
  ...rows.map((r) => (r.skipped ? `| ${r.name} | — | — | — | skipped: ${r.skipped} |`
    : `| ${r.name} | ${f(r.peakMiB)} | ${f(r.beforeMiB)} | ${f(r.peakMiB - r.beforeMiB)} | ${r.note || ''} |`)),
];
console.log(lines.join('\n'));
const MARK = '<!-- memory-benchmark -->';
const file = path.join(__dirname, 'RESULTS.md');
const text = fs.readFileSync(file, 'utf8');
const section = `${MARK}\n## Peak memory\n\n${lines.join('\n')}\n${MARK}`;
const re = new RegExp(`${MARK}[\\s\\S]*?${MARK}`);
const model = text.indexOf('<!-- model-benchmark -->');
fs.writeFileSync(file, re.test(text) ? text.replace(re, section) : model >= 0 ? `${text.slice(0, model)}${section}\n\n${text.slice(model)}` : `${text}\n${section}\n`);
fs.writeFileSync(path.join(__dirname, 'memory-results.json'), `${JSON.stringify({ machine: m, date: new Date().toISOString(), size, rows }, null, 1)}\n`);
