#!/usr/bin/env node
'use strict';
// npm run bench:profile: where the time of an inference and of a training step goes, kernel by
// kernel (tf.profile), for a preset at a size: each kernel name's share, the convolutions by
// shape, and the time outside any kernel (JavaScript between kernels: tape bookkeeping,
// allocation, GC), page faults and system time; then every convolution against torchvision's in
// the same run, shape by shape, inside both models (for retinanet-r50-fpn, where Python has torch;
// --no-torchvision skips it). Prints the tables and writes bench/profile.md with the machine.
//   node bench/profile.js [--preset retinanet-r50-fpn] [--size 600] [--batch 2] [--no-torchvision]
const fs = require('fs');
const { spawnSync } = require('child_process');
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
  return { text, kernels: prof.kernels };
}

// Each convolution of ours as torch would name it: NCHW input, [out, in, kh, kw] weight, stride.
// A kernel over several pyramid levels (RetinanetConv2DLevels: filter, x0 … x4, bias) names one
// per level; its time goes to the group.
function torchKeys(k) {
  const [a, b] = k.inputShapes;
  const out = k.outputShapes[0];
  const key = (x, f, ho) => JSON.stringify({ x: [x[0], x[3], x[1], x[2]], w: [f[3], f[2], f[0], f[1]], stride: Math.max(1, Math.round(x[1] / ho)) });
  switch (k.name) {
    case 'FusedConv2D': case 'Conv2D': case 'RetinanetConv2DResidual': return [key(a, b, out[1])];
    case 'RetinanetConv2DLevels': return k.inputShapes.slice(1).filter((x) => x.length === 4).map((x, i) => key(x, a, k.outputShapes[i][1]));
    case 'Conv2DBackpropInput': return [key(out, b, a[1])];     // dy, filter -> dx
    case 'Conv2DBackpropFilter': return [key(a, out, b[1])];    // x, dy -> dW
    default: return null;
  }
}

const describe = (k) => {
  const { x, w, stride } = JSON.parse(k);
  return `${w[2]}×${w[3]}${stride > 1 ? ` s${stride}` : ''} ${w[1]}→${w[0]} at ${x[0]}×${x[2]}×${x[3]}`;
};

// Ours against torch's entries ({ x, w, stride, calls, ms }), joined by shape: one row per group of
// shapes a kernel of ours ran together (or one shape). The same shape can be several layers (the
// FPN's 3×3 on P3 and a head's on P3): torch's time per call of a shape is charged to each row by
// its convolutions, and what torch ran beyond ours is listed as torch's only.
function shapeRows(kernels, names, theirs) {
  const groups = new Map();
  for (const k of kernels) {
    if (!names.includes(k.name)) continue;
    const keys = torchKeys(k);
    const g = keys.join(' + ');
    const e = groups.get(g) ?? { keys, ms: 0, kernels: new Map() };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.kernels.set(k.name, (e.kernels.get(k.name) ?? 0) + 1);
    groups.set(g, e);
  }
  const tv = new Map(theirs.map((t) => [JSON.stringify({ x: t.x, w: t.w, stride: t.stride }), { ...t, left: t.calls }]));
  const rows = [];
  for (const e of groups.values()) {
    // Convolutions: a backward pass is one filter gradient (and an input gradient, where needed).
    const convs = e.kernels.get('Conv2DBackpropFilter') ?? [...e.kernels.values()].reduce((a, n) => a + n, 0);
    const found = e.keys.map((k) => tv.get(k));
    let torchMs = null;
    if (found.every(Boolean)) {
      torchMs = found.reduce((acc, t) => acc + (t.ms / t.calls) * convs, 0);
      for (const t of found) t.left -= convs;
    }
    const x0 = JSON.parse(e.keys[0]).x;
    const what = e.keys.length > 1
      ? `${describe(e.keys[0]).replace(/ at .*/, '')} on ${e.keys.length} levels (${e.keys.map((k) => JSON.parse(k).x.slice(2).join('×')).join(', ')}), batch ${x0[0]}`
      : describe(e.keys[0]);
    rows.push({ what: torchMs === null ? `${what} (ours only)` : what, convs, ours: e.ms, torch: torchMs });
  }
  for (const [k, t] of tv) if (t.left > 0) rows.push({ what: `${describe(k)} (torch only)`, convs: t.left, ours: 0, torch: (t.ms / t.calls) * t.left });
  return rows.sort((p, q) => Math.max(q.ours, q.torch ?? 0) - Math.max(p.ours, p.torch ?? 0));
}

function shapeTable(title, rows) {
  const f = (v) => (v === null ? '—' : v.toFixed(1));
  const both = rows.filter((r) => r.torch !== null && r.ours > 0);
  const ours = both.reduce((a, r) => a + r.ours, 0);
  const theirs = both.reduce((a, r) => a + r.torch, 0);
  const lines = [`#### ${title}`, '', `In all (the shapes both ran): ours ${ours.toFixed(0)} ms, torch ${theirs.toFixed(0)} ms, torch / ours ${(theirs / ours).toFixed(2)}×.`, '',
    '| convolution (kernel, stride, in→out channels, at batch × height × width) | convolutions | ours ms | torch ms | torch / ours |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.what} | ${r.convs} | ${f(r.ours)} | ${f(r.torch)} | ${r.torch !== null && r.ours > 0 ? `${(r.torch / r.ours).toFixed(2)}×` : '—'} |`);
  return lines.join('\n');
}

// torchvision's retinanet_resnet50_fpn (80 classes, the image unpadded) timed convolution by
// convolution in the same run (bench/torchvision_conv_profile.py); { skipped: why } without torch
// or for another preset.
function torchConvProfile() {
  if (preset !== 'retinanet-r50-fpn' || args.includes('--no-torchvision')) return { skipped: preset !== 'retinanet-r50-fpn' ? `torchvision has no ${preset}` : '--no-torchvision' };
  const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const r = spawnSync(py, [path.join(__dirname, 'torchvision_conv_profile.py'), String(size), String(R.ops.numThreads()), String(batch)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { skipped: `${py}: ${((r.stderr || (r.error && r.error.message) || '').trim().split('\n').pop())}` };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

(async () => {
  const m = machine();
  const head = `# Profile: ${preset} at ${size} px\n\n${new Date().toISOString().slice(0, 10)}, ${m.cpu}, ${m.cores} logical CPUs (${m.topology}), ` +
    `${R.ops.numThreads()} thread(s), FMA peak ${R.ops.fmaPeakGflops().toFixed(0)} GFLOP/s (${R.ops.cpuIsa().active}), Node ${m.node}. ` +
    'Written by `npm run bench:profile`; kernel times from tf.profile (each kernel forced to finish).';
  console.log(head);
  const parts = [head];
  const inference = await profile('Inference, one image, detections included', () => model.detect(image));
  const training = await profile(`Training step, ${batch} images`, () => trainer.step(images, boxes, labels));
  parts.push(inference.text, training.text);
  console.log('\ntorchvision, convolution by convolution …');
  const tv = torchConvProfile();
  const section = ['### Each convolution against torch, inside both models', ''];
  if (tv.skipped) {
    section.push(`Not measured: ${tv.skipped}.`);
  } else {
    section.push(`torch ${tv.torch} / torchvision ${tv.torchvision} (${tv.threads} threads), \`retinanet_resnet50_fpn\` with 80 classes and the image unpadded (${size}×${size} through the network, as ours), in the same run (bench/torchvision_conv_profile.py): its forward passes timed around each \`nn.Conv2d\`, its backward passes from torch.profiler's \`aten::convolution_backward\` (input and weight gradients in one op), each the median of 3 runs; ours from the tf.profile runs above (one run). ` +
      'Ours fold the frozen batch norm, the bias, the ReLU and a residual add into the convolution; torch runs those as ops of their own, not counted here. In inference ours runs each head convolution over all five pyramid levels in one kernel (one row: torch\'s five calls summed). A shape that is several layers (the FPN\'s 3×3 on P3 and the heads\' on P3 in training) has torch\'s time per call charged to each row by its convolutions. ' +
      'P6: ours is made from C5 (2048 channels, as the paper), torchvision\'s from P5 (256): a row each, marked as one side\'s only.', '');
    section.push(shapeTable('Inference, one image', shapeRows(inference.kernels, ['FusedConv2D', 'Conv2D', 'RetinanetConv2DResidual', 'RetinanetConv2DLevels'], tv.inference)), '');
    section.push(shapeTable(`Training step, ${batch} images: forward`, shapeRows(training.kernels, ['FusedConv2D', 'Conv2D', 'RetinanetConv2DResidual'], tv.trainForward)), '');
    section.push(shapeTable(`Training step, ${batch} images: backward (input and weight gradients)`, shapeRows(training.kernels, ['Conv2DBackpropInput', 'Conv2DBackpropFilter'], tv.trainBackward)));
  }
  const text = section.join('\n');
  console.log(`\n${text}`);
  parts.push(text);
  fs.writeFileSync(path.join(__dirname, 'profile.md'), `${parts.join('\n\n')}\n`);
})();
