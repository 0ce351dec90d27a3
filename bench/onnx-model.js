'use strict';
// bench/model.js's ONNX Runtime column: torchvision's retinanet_resnet50_fpn — the very model
// bench/torchvision_model.py times (same seed, random weights, 91 classes as torchvision counts
// COCO's, min_size = the bench's size), transform and post-processing included — exported to ONNX
// by bench/onnx_export.py with the Python that has torch, then run with onnxruntime-node's CPU
// execution provider: inference per image, detections included, median of `runs` (3 unless given) after a warm-up.
//
// onnxruntime-node is not a dependency (its install script downloads; its CPU binaries ship in the
// npm package): `npm install --no-save --ignore-scripts onnxruntime-node`. Without it, without
// torch / torchvision, or when the export fails, the column is skipped with the reason and the
// bench goes on. The export is cached under os.tmpdir() per torch / torchvision version and size.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { median, interleaved } = require('./interleave');

const INSTALL = 'npm install --no-save --ignore-scripts onnxruntime-node';

function lastLine(s) {
  return (s || '').trim().split('\n').pop() || '';
}

/**
 * Returns { measured: true, ort, torch, torchvision, threads, inferenceMs, detections, model, paired } or
 * { measured: false, skipped: reason } or { measured: false, failed: message }.
 */
async function onnxRuntimeInference({ size, threads, python, runs = 3, log = () => {}, pair = null, pairRuns = 7 }) {
  let ortPath;
  try {
    ortPath = require.resolve('onnxruntime-node');
  } catch {
    return { measured: false, skipped: `onnxruntime-node not installed — ${INSTALL}` };
  }
  // The cwd keeps bench/torchvision.py from shadowing the torchvision package.
  const probe = spawnSync(python, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8', cwd: os.tmpdir() });
  if (probe.status !== 0) {
    return { measured: false, skipped: `${python} lacks torch / torchvision (${lastLine(probe.stderr || (probe.error && probe.error.message))})` };
  }
  const [torchVersion, tvVersion] = probe.stdout.trim().split(/\s+/);
  const safe = (v) => v.replace(/[^A-Za-z0-9.+-]/g, '_');
  const dir = path.join(os.tmpdir(), 'tfjs-retinanet-bench');
  const model = path.join(dir, `retinanet_resnet50_fpn-${size}px-unpadded-torch${safe(torchVersion)}-torchvision${safe(tvVersion)}-opset11.onnx`);
  const input = `${model}.input.f32`;
  if (fs.existsSync(model) && fs.existsSync(input)) {
    log(`  ONNX export cached: ${model}`);
  } else {
    log(`  exporting to ONNX with torch ${torchVersion}: ${model} …`);
    fs.mkdirSync(dir, { recursive: true });
    const r = spawnSync(python, [path.join(__dirname, 'onnx_export.py'), model, String(size)], { encoding: 'utf8', cwd: os.tmpdir() });
    if (r.status !== 0 || !fs.existsSync(model)) {
      return { measured: false, skipped: `ONNX export failed (${lastLine(r.stderr || (r.error && r.error.message)) || `exit ${r.status}`})` };
    }
  }
  let ortVersion = '?';
  let session;
  try {
    ortVersion = require(path.join(path.dirname(ortPath), '..', 'package.json')).version;
  } catch {
    try { ortVersion = require('onnxruntime-node/package.json').version; } catch { /* unknown */ }
  }
  try {
    const ort = require('onnxruntime-node');
    session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    // The image torchvision_model.py times torchvision on (same seed, torch.rand in [0, 1], CHW),
    // written by onnx_export.py; the tfjs presets run on their own seeded randomNormal image.
    const bytes = fs.readFileSync(input);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    if (data.length !== 3 * size * size) throw new Error(`${input}: ${data.length} floats, expected ${3 * size * size}`);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [3, size, size]) };
    let detections = 0;
    const once = async () => {
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      detections = out[session.outputNames[1]].dims[0];
      Object.values(out).forEach((t) => t.dispose && t.dispose());
      return ms;
    };
    await once();  // warm-up
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    // Interleaved with our inference (`pair` times one; bench/interleave.js).
    let paired;
    if (pair) {
      pair();  // a warm-up beside the session: its first call after the session's load faults in 190 MB
      const r = await interleaved({ runs: pairRuns, ours: pair, theirs: once });
      paired = { runs: r.runs, oursMs: r.oursMs, ortMs: r.theirsMs, ortOverOurs: r.theirsOverOurs };
    }
    return {
      measured: true, ort: ortVersion, torch: torchVersion, torchvision: tvVersion, opset: 11, threads,
      inferenceMs: median(times), detections, model, paired,
    };
  } catch (e) {
    return { measured: false, ort: ortVersion, failed: `onnxruntime-node ${ortVersion}: ${e.message}` };
  } finally {
    if (session) await session.release().catch(() => {});
  }
}

module.exports = { onnxRuntimeInference, INSTALL };
