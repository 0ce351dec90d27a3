'use strict';
// The model benchmark: per preset at 600 px on tfjs's cpu backend with the native kernels —
// inference per image (detections included) split into backbone / FPN / heads /
// post-processing, and a training step (2 images) with the targets' and the loss kernels'
// shares — next to tfjs's own cpu kernels, the WebAssembly backend's forward, and torchvision's
// retinanet_resnet50_fpn (min_size=600, the image not padded to 608) on the CPU and the same model exported to ONNX on
// onnxruntime-node's CPU execution provider (bench/onnx-model.js; skipped, saying why, when
// onnxruntime-node or torch is missing), all in one run; ONNX Runtime's inference and
// torchvision's training step also interleaved with ours (bench/torchvision-pair.js). Writes its section of bench/RESULTS.md —
// one row per preset and machine kind (CPU model + logical CPUs): a rerun replaces its machine's
// rows and keeps the others' — and bench/model-results.json (this run).
//
//   node bench/model.js [--presets a,b] [--size 600] [--slow] [--no-torchvision] [--no-wasm] [--no-onnx]
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
const R = require('..');
R.ops.retainFreedMemory();  // as the `retinanet` command does: see docs/tfjs.md, "Memory"
R.ops.relaxGarbageCollection();  // likewise: docs/tfjs.md, "Garbage collection"
const { medianMs } = require('../dist/cli/bench');
const { onnxRuntimeInference } = require('./onnx-model');
const { pairedTrainingSteps } = require('./torchvision-pair');

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const size = Number(opt('size', '600'));
const presets = opt('presets', 'retinanet-r50-fpn,retinanet-r18-small,retinanet-r18-tiny').split(',');
const slow = args.includes('--slow');
const MARK = '<!-- model-benchmark -->';
const INFERENCE_RUNS = 5;

function log(s) {
  process.stderr.write(`${s}\n`);
}

function time(fn, runs) {
  return medianMs(fn, runs);
}

// The machine, keyed (in RESULTS.md's rows) by CPU model + logical CPUs.
const { cpu, cores, topology } = require('./harness').machine();
const machine = {
  cpu,
  logicalCpus: cores,
  topology,
  fmaPeakGflops: Math.max(...Array.from({ length: 5 }, () => R.ops.fmaPeakGflops())),
  isa: R.ops.cpuIsa().active,
  threads: R.ops.numThreads(),
};
// RETINANET_CPU_ISA=avx2 (or baseline): this CPU as a machine without AVX-512 (or AVX2), torch
// limited likewise; its own rows.
const forced = require('./harness').forcedIsa(R.ops.cpuIsa());
machine.key = `${machine.cpu}, ${machine.logicalCpus} logical CPUs${forced.label ? `, ${forced.label}` : ''}`;
const peerEnv = { ...process.env, ...forced.env };
log(`machine: ${machine.key} (${machine.topology}), FMA peak ${machine.fmaPeakGflops.toFixed(0)} GFLOP/s (${machine.isa}), addon threads ${machine.threads}`);

const rows = [];
const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1);
const batch2 = tf.concat([image, image]);
const s = size;
const gtBoxes = [0, 1].map(() => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
const gtLabels = [0, 1].map(() => new Int32Array([0, 1]));

for (const preset of presets) {
  const big = preset.includes('r50') || preset.includes('r101');
  const runs = big ? 3 : 5;
  log(`${preset} at ${size} px …`);
  const m = R.createRetinaNet({ preset, numClasses: 80 });
  const row = { preset, size };
  // Median of 5 after a warm-up, as ONNX Runtime's and torchvision's inference are timed: a
  // second is short beside the minutes-long slow spells of a shared VM.
  row.inferenceMs = time(() => m.detect(image), INFERENCE_RUNS);
  // Parts of inference, each forced to finish (dataSync) before the next starts.
  let feats, pyramid, heads;
  row.backboneMs = time(() => { tf.dispose(feats); feats = m.backbone.apply(image); feats.forEach((f) => f.dataSync()); }, runs);
  row.fpnMs = time(() => { tf.dispose(pyramid); pyramid = m.fpn.apply(feats); pyramid.forEach((f) => f.dataSync()); }, runs);
  row.headsMs = time(() => {
    if (heads) tf.dispose(heads.flatMap((h) => [h.logits, h.deltas]));
    heads = pyramid.map((f) => ({ logits: m.classHead.apply(f), deltas: m.boxHead.apply(f) }));
    heads.forEach((h) => { h.logits.dataSync(); h.deltas.dataSync(); });
  }, runs);
  const { anchors, levels } = m.anchors(size, size);
  const lv = levels.map((l, i) => ({ logits: heads[i].logits.dataSync(), deltas: heads[i].deltas.dataSync(), anchors: anchors.subarray(l.start * 4, (l.start + l.count) * 4) }));
  row.postprocessMs = time(() => R.ops.postprocess(lv, 80, [[size, size]]), runs);
  tf.dispose([...feats, ...pyramid, ...heads.flatMap((h) => [h.logits, h.deltas])]);

  const trainer = new R.Trainer(m, { iterations: 1e6, learningRate: 1e-5 });
  // Median of 3 steps after a warm-up, as bench/torchvision_model.py times torchvision's.
  row.trainStepMs = time(() => trainer.step(batch2, gtBoxes, gtLabels), 3);
  row.targetsMs = time(() => R.ops.retinanetTargetsBatch(anchors, gtBoxes, gtLabels, { numClasses: 80 }), 5);
  // The focal loss (forward + gradient, one native pass) over the step's 2 × anchors × 80 logits.
  const n = anchors.length / 4;
  const logits = Float32Array.from({ length: 2 * n * 80 }, (_, i) => ((i * 7919) % 1000) / 125 - 6);
  const labels = Int32Array.from({ length: 2 * n }, (_, i) => (i % 97 === 0 ? i % 80 : -1));
  row.lossKernelsMs = time(() => R.ops.sigmoidFocalLoss(logits, labels, 80), 5);
  trainer.dispose();

  if (!big || slow) {
    R.useNativeCpuKernels(false);
    row.tfjsOwnInferenceMs = time(() => tf.tidy(() => m.forward(image).forEach((h) => h.logits.dataSync())), big ? 0 : 1);
    R.useNativeCpuKernels(true);
  }
  m.dispose();
  rows.push(row);
  log(`  ${JSON.stringify(row)}`);
}

(async () => {
  if (!args.includes('--no-wasm')) {
    try {
      require('@tensorflow/tfjs-backend-wasm');
      await tf.setBackend('wasm');
      for (const row of rows) {
        if (row.preset.includes('r101')) continue;
        log(`${row.preset} forward on the wasm backend …`);
        const m = R.createRetinaNet({ preset: row.preset, numClasses: 80 });
        const x = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1);
        row.wasmForwardMs = time(() => tf.tidy(() => m.forward(x).forEach((h) => h.logits.dataSync())), 1);
        x.dispose();
        m.dispose();
      }
      await tf.setBackend('cpu');
    } catch (e) {
      log(`wasm backend: not measured (${e.message})`);
    }
  }
  let tv = null;
  const py = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  if (!args.includes('--no-torchvision')) {
    log(`torchvision retinanet_resnet50_fpn with ${py} …`);
    const r = spawnSync(py, [path.join(__dirname, 'torchvision_model.py'), String(size), String(R.ops.numThreads())], { encoding: 'utf8', env: peerEnv });
    if (r.status === 0) tv = JSON.parse(r.stdout.trim().split('\n').pop());
    else log(`torchvision: not measured (${(r.stderr || (r.error && r.error.message) || '').trim().split('\n').pop()})`);
  }
  // Training steps interleaved with torchvision's (bench/torchvision-pair.js), the r50 preset.
  let tvPaired = null;
  const r50Train = presets.find((p) => p.includes('r50'));
  if (tv && r50Train) {
    log('training steps interleaved with torchvision\'s …');
    const tm = R.createRetinaNet({ preset: r50Train, numClasses: 80 });
    const trainer = new R.Trainer(tm, { iterations: 1e6, learningRate: 1e-5 });
    const ourStep = () => { const t0 = process.hrtime.bigint(); trainer.step(batch2, gtBoxes, gtLabels); return Number(process.hrtime.bigint() - t0) / 1e6; };
    ourStep();  // warm-up
    tvPaired = await pairedTrainingSteps({ python: py, size, threads: R.ops.numThreads(), ourStep, env: peerEnv });
    trainer.dispose();
    tm.dispose();
    log(tvPaired.failed ? `  failed: ${tvPaired.failed}` : `  ${tvPaired.runs} pairs: ours ${tvPaired.oursMs.toFixed(0)} ms, torchvision ${tvPaired.torchvisionMs.toFixed(0)} ms, torchvision / ours ${tvPaired.torchvisionOverOurs.toFixed(2)}×`);
  }
  tf.dispose([image, batch2]);
  let onnx = { measured: false, skipped: '--no-onnx' };
  if (!args.includes('--no-onnx')) {
    log('retinanet_resnet50_fpn exported to ONNX, on onnxruntime-node (CPU) …');
    // Our r50 inference again, one call beside each ONNX Runtime call (onnx-model.js, `pair`).
    const r50Preset = presets.find((p) => p.includes('r50'));
    const pm = r50Preset ? R.createRetinaNet({ preset: r50Preset, numClasses: 80 }) : null;
    const img = pm ? tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1) : null;
    if (pm) pm.detect(img);
    const pair = pm ? () => { const t0 = process.hrtime.bigint(); pm.detect(img); return Number(process.hrtime.bigint() - t0) / 1e6; } : null;
    onnx = await onnxRuntimeInference({ size, threads: R.ops.numThreads(), python: py, runs: INFERENCE_RUNS, log, pair });
    if (pm) { pm.dispose(); img.dispose(); }
    log(`  ONNX Runtime: ${onnx.measured ? `${onnx.inferenceMs.toFixed(0)} ms, ${onnx.detections} detections` : onnx.skipped ? `skipped: ${onnx.skipped}` : `failed: ${onnx.failed}`}`);
    if (onnx.paired) log(`  interleaved, ${onnx.paired.runs} pairs: ours ${onnx.paired.oursMs.toFixed(0)} ms, ONNX Runtime ${onnx.paired.ortMs.toFixed(0)} ms, ONNX Runtime / ours ${onnx.paired.ortOverOurs.toFixed(2)}×`);
  }
  const f = (v) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const pct = (part, whole) => `${f(part)} (${((100 * part) / whole).toFixed(0)} %)`;
  const r50 = rows.find((r) => r.preset === 'retinanet-r50-fpn');
  const ortCell = onnx.measured ? f(onnx.inferenceMs) : onnx.skipped ? `skipped: ${onnx.skipped}` : `failed: ${onnx.failed}`;
  const tableRows = rows.map((r) => `| ${machine.key} | ${r.preset} | ${f(r.inferenceMs)} | ${pct(r.backboneMs, r.inferenceMs)} | ${pct(r.fpnMs, r.inferenceMs)} | ${pct(r.headsMs, r.inferenceMs)} | ${pct(r.postprocessMs, r.inferenceMs)} | ${f(r.trainStepMs)} | ${pct(r.targetsMs, r.trainStepMs)} | ${pct(r.lossKernelsMs, r.trainStepMs)} | ${f(r.tfjsOwnInferenceMs)} | ${f(r.wasmForwardMs)} | `
    + `${r === r50 && tv ? f(tv.inferenceMs) : '—'} | ${r === r50 ? ortCell.replace(/\|/g, '/') : '—'} |`);
  // torchvision's retinanet_resnet50_fpn goes in the retinanet-r50-fpn row; with no such row, its own.
  if (!r50 && (tv || onnx.measured)) tableRows.push(`| ${machine.key} | torchvision retinanet_resnet50_fpn | — | — | — | — | — | — | — | — | — | — | ${tv ? f(tv.inferenceMs) : '—'} | ${ortCell.replace(/\|/g, '/')} |`);
  let note = `- **${machine.key}** (${new Date().toISOString().slice(0, 10)}): ${machine.topology}, FMA peak ${machine.fmaPeakGflops.toFixed(0)} GFLOP/s (${machine.isa}), addon threads ${machine.threads}, ${size}×${size} images.`
    + (forced.label ? ` torch run with ${Object.entries(forced.env).map(([k, v]) => `${k}=${v}`).join(' ')}; ONNX Runtime has no such switch and used the CPU's best path.` : '');
  if (tv) {
    note += ` torchvision ${tv.torchvision} / torch ${tv.torch} (${tv.threads} threads), \`retinanet_resnet50_fpn(min_size=${size})\` with the image not padded to a multiple of 32 (${size}×${size} through the network, as ours), same machine, same run: inference ${f(tv.inferenceMs)} ms per image, training step (2 images) ${f(tv.trainStepMs)} ms.`
      + (r50 ? ` Ours / torchvision: inference ${(r50.inferenceMs / tv.inferenceMs).toFixed(2)}×, training step ${(r50.trainStepMs / tv.trainStepMs).toFixed(2)}×.` : '')
      + (tvPaired && !tvPaired.failed ? ` Training steps interleaved (one of ours beside each of torchvision's, ${tvPaired.runs} pairs): ours ${f(tvPaired.oursMs)} ms, torchvision ${f(tvPaired.torchvisionMs)} ms; torchvision's time / ours, median over the pairs: ${tvPaired.torchvisionOverOurs.toFixed(2)}×.` : '')
      + (tvPaired && tvPaired.failed ? ` Interleaved training steps: failed (${tvPaired.failed}).` : '');
  }
  if (onnx.measured) {
    note += ` ONNX Runtime ${onnx.ort} (onnxruntime-node, CPU execution provider, ${onnx.threads} intra-op threads), the same model exported with torch ${onnx.torch} (opset ${onnx.opset}, post-processing in the graph), same image as torchvision: inference ${f(onnx.inferenceMs)} ms per image (${onnx.detections} detections).`
      + (r50 ? ` Ours / ONNX Runtime: inference ${(r50.inferenceMs / onnx.inferenceMs).toFixed(2)}×.` : '')
      + (onnx.paired ? ` Interleaved (one call of ours beside each of ONNX Runtime's, ${onnx.paired.runs} pairs, so both see the same moment of a shared machine): ours ${f(onnx.paired.oursMs)} ms, ONNX Runtime ${f(onnx.paired.ortMs)} ms; ONNX Runtime's time / ours, median over the pairs: ${onnx.paired.ortOverOurs.toFixed(2)}×.` : '')
      + (tv ? ` torchvision / ONNX Runtime: ${(tv.inferenceMs / onnx.inferenceMs).toFixed(2)}×.` : '');
  } else {
    note += ` ONNX Runtime: ${onnx.skipped ? `skipped: ${onnx.skipped}` : `failed: ${onnx.failed}`}.`;
  }

  // The section keeps one set of rows (and one note) per machine kind: this machine's replace its
  // own, other machines' stay.
  const file = path.join(__dirname, 'RESULTS.md');
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const at = old.indexOf(MARK);
  const oldSection = at < 0 ? [] : old.slice(at).split('\n');
  const byMachine = new Map();  // key -> { rows, note }
  const entry = (key) => byMachine.get(key) || byMachine.set(key, { rows: [], note: null }).get(key);
  for (const l of oldSection) {
    const cells = l.startsWith('| ') ? l.slice(2, -2).split(' | ') : null;
    if (cells && cells.length === 14 && cells[0] !== 'machine' && cells[0] !== '---') entry(cells[0]).rows.push(l);
    else if (l.startsWith('- **')) entry(l.slice(4, l.indexOf('**', 4))).note = l;
  }
  // Rows keyed before the CPU generation was part of the key (the same model name and CPU count)
  // are this machine kind's too.
  const legacy = `${machine.cpu.replace(/ \([^()]*family \d+ model \d+\)$/, '')}, ${machine.logicalCpus} logical CPUs`;
  if (legacy !== machine.key) byMachine.delete(legacy);
  Object.assign(entry(machine.key), { rows: tableRows, note });
  const lines = [
    MARK,
    '## Model benchmark',
    '',
    '`npm run bench:model`, one row per preset and machine kind (CPU model + logical CPUs, and the vector path when a lower one is forced with RETINANET_CPU_ISA, torch then limited likewise; a rerun replaces its machine\'s rows, other machines\' stay): 80 classes, random weights, times in ms (median). torchvision and ONNX Runtime: torchvision\'s `retinanet_resnet50_fpn` (91 classes as torchvision counts COCO\'s), in the retinanet-r50-fpn row; image size, versions and ratios in each machine\'s note below.',
    '',
    '| machine | preset | inference / image | backbone | FPN | heads | post-processing | training step (2 images) | targets | focal-loss kernels | tfjs own kernels, forward | wasm backend, forward | torchvision, inference | ONNX Runtime, inference |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...[...byMachine.values()].flatMap((m) => m.rows),
    '',
    ...[...byMachine.values()].map((m) => m.note).filter(Boolean),
  ];
  const text = `${lines.join('\n')}\n`;
  console.log(text);
  fs.writeFileSync(file, `${(at < 0 ? old : old.slice(0, at)).trimEnd()}\n\n${text}`);
  fs.writeFileSync(path.join(__dirname, 'model-results.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, size, rows, torchvision: tv && { ...tv, pairedTraining: tvPaired }, onnxruntime: onnx }, null, 2)}\n`);
  log('wrote bench/RESULTS.md (model section) and bench/model-results.json');
})();
