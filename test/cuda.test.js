'use strict';
// The CUDA implementations against the CPU ones (DESIGN.md: same keep sets and order, same
// matches, floats within 1e-5 relative), repeated runs giving the same bits, and errors as JS
// errors. Where ops.devices() lacks 'cuda' every GPU test is registered with test.skip and a title
// saying so, so the skipped count (and why) shows in the test log; the tests of the no-GPU
// behaviour run there instead.
const test = require('ava');
const { headOutputs } = require('./helpers/head-outputs');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const ops = require('../dist/ops');
const { native } = require('../dist/runtime/addon');
const { rng, randomBoxes } = require('./helpers/reference');

const HAS_CUDA = ops.devices().includes('cuda');
const cudaTest = (title, fn) => (HAS_CUDA ? test(title, fn) : test.skip(`${title} (needs a CUDA GPU: none here)`, fn));
const noCudaTest = (title, fn) => (HAS_CUDA ? test.skip(`${title} (runs where no CUDA GPU is usable)`, fn) : test(title, fn));
const CUDA = { device: 'cuda' };

// ---------------------------------------------------------------------------------------------
// Comparison helpers.

/** Largest |a - b| over the largest |b| (1 when b is all zeros): relative to the array's scale. */
function scaledErr(a, b) {
  let scale = 0;
  let e = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    e = Math.max(e, Math.abs(a[i] - b[i]));
  }
  return e / (scale || 1);
}

/** Largest |a - b| / max(|b|, floor), elementwise. */
function relErr(a, b, floor) {
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return e;
}

function sameBits(a, b) {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function labelsFor(r, n, k, { fgRate = 0.05, ignoreRate = 0.1 } = {}) {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    labels[i] = u < fgRate ? r.int(0, k) : u < fgRate + ignoreRate ? -2 : -1;
  }
  return labels;
}

function logitsFor(r, n, spread = 8) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = r.uniform(-spread, spread);
  return x;
}

/** Boxes with exact ties: copies of other boxes, shared edges, empty boxes, nested boxes. */
function edgeBoxes(r, n, size = 300) {
  const b = randomBoxes(r, n, size, 0, size / 2);
  for (let i = 0; i < n; i++) {
    const u = r();
    const j = r.int(0, n);
    if (u < 0.1) b.set(b.subarray(j * 4, j * 4 + 4), i * 4); // duplicate
    else if (u < 0.15) b.set([b[i * 4], b[i * 4 + 1], b[i * 4], b[i * 4 + 3]], i * 4); // zero width
    else if (u < 0.2) b.set([b[j * 4 + 2], b[j * 4 + 1], b[j * 4 + 2] + 10, b[j * 4 + 3]], i * 4); // touching
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Where there is no usable GPU (this runs on the CI machine and on CPU-only installs).

noCudaTest("devices() is ['cpu'] and every op's { device: 'cuda' } is a clear ERR_RETINANET_NO_CUDA error", async (t) => {
  t.deepEqual(ops.devices(), ['cpu']);
  const r = rng(1);
  const boxes = randomBoxes(r, 8);
  const scores = new Float32Array(8).fill(0.5);
  const groups = new Int32Array(8);
  const logits = new Float32Array(8 * 3);
  const labels = new Int32Array(8).fill(-1);
  const anchors = boxes.slice();
  const level = { logits: new Float32Array(8 * 3), deltas: new Float32Array(8 * 4), anchors };
  const err = { code: 'ERR_RETINANET_NO_CUDA', message: /^device 'cuda': .*CUDA/ };
  const calls = {
    sigmoidFocalLoss: () => ops.sigmoidFocalLoss(logits, labels, 3, CUDA),
    focalLossStar: () => ops.focalLossStar(logits, labels, 3, CUDA),
    generateAnchors: () => ops.generateAnchors({ height: 64, width: 64, device: 'cuda' }),
    boxIou: () => ops.boxIou(boxes, boxes, CUDA),
    encodeBoxes: () => ops.encodeBoxes(anchors, boxes, CUDA),
    decodeBoxes: () => ops.decodeBoxes(anchors, new Float32Array(32), CUDA),
    matchAnchors: () => ops.matchAnchors(anchors, boxes, CUDA),
    matchAnchorsBatch: () => ops.matchAnchorsBatch(anchors, [boxes], CUDA),
    retinanetTargets: () => ops.retinanetTargets(anchors, boxes, new Int32Array(8), CUDA),
    retinanetTargetsBatch: () => ops.retinanetTargetsBatch(anchors, [boxes], [new Int32Array(8)], CUDA),
    nms: () => ops.nms(boxes, scores, 0.5, CUDA),
    batchedNms: () => ops.batchedNms(boxes, scores, groups, 0.5, CUDA),
    postprocess: () => ops.postprocess([level], 3, [[64, 64]], CUDA),
    groupNorm: () => ops.groupNorm(new Float32Array(4), [1, 1, 1, 4], 2, new Float32Array(4), new Float32Array(4), CUDA),
  };
  for (const [name, call] of Object.entries(calls)) {
    const e = t.throws(call, err, name);
    t.true(e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError), name);
  }
  await t.throwsAsync(() => ops.nmsAsync(boxes, scores, 0.5, CUDA), err);
  await t.throwsAsync(() => ops.batchedNmsAsync(boxes, scores, groups, 0.5, CUDA), err);
  await t.throwsAsync(() => ops.postprocessAsync([level], 3, [[64, 64]], CUDA), err);
  // The device is checked before the arguments: a bad call still names the device problem first.
  t.throws(() => ops.boxIou('not boxes', boxes, CUDA), err);
  // Other devices stay a TypeError.
  t.throws(() => ops.boxIou(boxes, boxes, { device: 'gpu' }), { instanceOf: TypeError, message: /^device:/ });
});

noCudaTest('the addon itself answers a CUDA request with ERR_RETINANET_NO_CUDA (no abort, no CUDA error)', async (t) => {
  const addon = native();
  const info = addon.cudaInfo();
  t.is(info.devices, 0);
  t.true(info.error.length > 0);
  const boxes = randomBoxes(rng(2), 4);
  const err = { code: 'ERR_RETINANET_NO_CUDA' };
  // Straight into the binding with the device flag set, past the TypeScript checks.
  t.throws(() => addon.boxIou(boxes, boxes, true), err);
  t.throws(() => addon.focalLoss(new Float32Array(8), new Int32Array(4).fill(-1),
    { numClasses: 2, star: false, useAlpha: true, alpha: 0.25, gamma: 2, beta: 0, normalizer: 1, grad: true }, undefined, true), err);
  const nmsParams = { iouThreshold: 0.5, maxOutput: -1, useScoreThreshold: false, scoreThreshold: 0 };
  t.throws(() => addon.batchedNms(boxes, new Float32Array(4), null, nmsParams, true), err);
  await t.throwsAsync(() => addon.batchedNmsAsync(boxes, new Float32Array(4), null, nmsParams, true), err);
  // And the CPU path is unaffected afterwards.
  t.is(ops.boxIou(boxes, boxes).length, 16);
});

// The build itself: where nvcc is on the PATH (CI), `npm ci` builds the CUDA kernels with the CUDA
// runtime linked statically, and that .node loads on a machine without GPU or driver.
const nvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
const expectCudaBuild = nvcc && !/^(off|0|false|no)$/i.test(process.env.RETINANET_CUDA || '') &&
  process.env.RETINANET_BUILD !== 'node-gyp' &&
  // The binary loaded is this checkout's own build (build/Release, which node-gyp-build prefers to prebuilds/).
  require('node-gyp-build').path(path.join(__dirname, '..')).startsWith(path.join(__dirname, '..', 'build') + path.sep);
(expectCudaBuild ? test : test.skip)(
  `the addon was built with the CUDA kernels and loads without a GPU${expectCudaBuild ? '' : ' (needs nvcc and the CMake build)'}`,
  (t) => {
    const info = native().cudaInfo();
    t.true(info.built, 'CMake found nvcc but the loaded addon has no CUDA kernels');
    // Static runtime: no libcudart.so dependency to find at load time.
    const node = path.join(__dirname, '..', 'build', 'Release', 'retinanet.node');
    if (fs.existsSync(node) && process.platform === 'linux') {
      const ldd = spawnSync('ldd', [node], { encoding: 'utf8' });
      if (ldd.status === 0) t.notRegex(ldd.stdout, /libcudart/);
    }
    t.true(ops.devices().includes('cpu'));
  },
);

// On Linux, no NVIDIA device node means no GPU: devices() must not claim one.
const noNvidiaDevice = process.platform === 'linux' && !fs.existsSync('/dev/nvidiactl') && !fs.existsSync('/dev/nvidia0');
(noNvidiaDevice ? test : test.skip)(
  `devices() is ['cpu'] on a machine with no NVIDIA device${noNvidiaDevice ? '' : ' (this machine has one)'}`,
  (t) => {
    t.deepEqual(ops.devices(), ['cpu']);
  },
);

// ---------------------------------------------------------------------------------------------
// CUDA vs CPU.

for (const k of [80, 7, 1]) {
  cudaTest(`sigmoidFocalLoss on CUDA matches the CPU (K ${k}: float4 or scalar path; gamma 0, 1, 2, 0.5, 5; alpha on and off)`, (t) => {
    for (const gamma of [0, 1, 2, 0.5, 5]) {
      for (const alpha of [0.25, null]) {
        const what = `gamma ${gamma}, alpha ${alpha}`;
        const r = rng(100 + k * 10 + gamma * 3 + (alpha === null ? 1 : 0));
        const n = 3001;
        const logits = logitsFor(r, n * k);
        const labels = labelsFor(r, n, k);
        const opts = { gamma, alpha };
        const cpu = ops.sigmoidFocalLoss(logits, labels, k, opts);
        const gpu = ops.sigmoidFocalLoss(logits, labels, k, { ...opts, ...CUDA });
        t.true(Math.abs(gpu.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss), `${what}: ${gpu.loss} vs ${cpu.loss}`);
        t.true(scaledErr(gpu.grad, cpu.grad) <= 1e-5, `${what}: grad error ${scaledErr(gpu.grad, cpu.grad)}`);
        let ignoredZero = true;
        for (let i = 0; i < n; i++) {
          if (labels[i] === -2 && !gpu.grad.subarray(i * k, (i + 1) * k).every((g) => g === 0)) ignoredZero = false;
        }
        t.true(ignoredZero, `${what}: ignored anchors get a zero gradient`);
        const noGrad = ops.sigmoidFocalLoss(logits, labels, k, { ...opts, grad: false, ...CUDA });
        t.is(noGrad.grad, undefined);
        t.is(noGrad.loss, gpu.loss, `${what}: the loss does not depend on grad`);
      }
    }
  });
}

for (const [gamma, beta] of [[4, 0], [2, 1], [0.7, -0.5]]) {
  cudaTest(`focalLossStar on CUDA matches the CPU (gamma ${gamma}, beta ${beta})`, (t) => {
    const r = rng(200 + gamma * 10 + beta);
    for (const k of [80, 5]) {
      const n = 2000;
      const logits = logitsFor(r, n * k);
      const labels = labelsFor(r, n, k);
      const cpu = ops.focalLossStar(logits, labels, k, { gamma, beta });
      const gpu = ops.focalLossStar(logits, labels, k, { gamma, beta, ...CUDA });
      t.true(Math.abs(gpu.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss), `${gpu.loss} vs ${cpu.loss}`);
      t.true(scaledErr(gpu.grad, cpu.grad) <= 1e-5);
    }
  });
}

cudaTest('focal loss on CUDA: edge cases (no anchors, all ignored, extreme logits, normalizer, out)', (t) => {
  const r = rng(300);
  t.deepEqual(ops.sigmoidFocalLoss(new Float32Array(0), new Int32Array(0), 4, CUDA), { loss: 0, grad: new Float32Array(0) });
  const k = 4;
  const n = 50;
  const logits = logitsFor(r, n * k, 200); // |x| up to 200: exp underflows, no NaN
  const ignored = new Int32Array(n).fill(-2);
  const allIgnored = ops.sigmoidFocalLoss(logits, ignored, k, CUDA);
  t.is(allIgnored.loss, 0);
  t.true(allIgnored.grad.every((g) => g === 0));
  const labels = labelsFor(r, n, k, { fgRate: 0.5, ignoreRate: 0.1 });
  const cpu = ops.sigmoidFocalLoss(logits, labels, k, { normalizer: 7.5 });
  const out = new Float32Array(n * k).fill(123);
  const gpu = ops.sigmoidFocalLoss(logits, labels, k, { normalizer: 7.5, out, ...CUDA });
  t.is(gpu.grad, out);
  t.true(Number.isFinite(gpu.loss));
  t.true(Math.abs(gpu.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss));
  t.true(scaledErr(out, cpu.grad) <= 1e-5);
});

cudaTest('focal loss on CUDA: the same bits on every run, and a non-finite logit is the CPU\'s RangeError', (t) => {
  const r = rng(301);
  const k = 80;
  const n = 40000;
  const logits = logitsFor(r, n * k);
  const labels = labelsFor(r, n, k);
  const first = ops.sigmoidFocalLoss(logits, labels, k, CUDA);
  for (let run = 0; run < 3; run++) {
    const again = ops.sigmoidFocalLoss(logits, labels, k, CUDA);
    t.true(Object.is(again.loss, first.loss));
    t.true(sameBits(again.grad, first.grad));
  }
  const star = ops.focalLossStar(logits, labels, k, CUDA);
  t.true(Object.is(ops.focalLossStar(logits, labels, k, CUDA).loss, star.loss));
  // Rows 5 (ignored: not read) and 9 hold a NaN and an Infinity: row 9 is reported, as on the CPU.
  const bad = logits.slice();
  const lab = labels.slice();
  lab[5] = -2;
  lab[9] = -1;
  bad[5 * k + 3] = NaN;
  bad[9 * k + 1] = Infinity;
  bad[700 * k] = NaN;
  const cpuErr = t.throws(() => ops.sigmoidFocalLoss(bad, lab, k), { instanceOf: RangeError });
  t.throws(() => ops.sigmoidFocalLoss(bad, lab, k, CUDA), { instanceOf: RangeError, message: cpuErr.message });
  t.throws(() => ops.focalLossStar(bad, lab, k, CUDA), { instanceOf: RangeError, message: /row 9 / });
});

cudaTest('focal loss on CUDA at the paper\'s size (16 images x 120k anchors x 80 classes)', (t) => {
  const r = rng(302);
  const k = 80;
  const n = 16 * 120000;
  const logits = new Float32Array(n * k);
  for (let i = 0; i < logits.length; i++) logits[i] = -4 + 3 * (r() - 0.5);
  const labels = labelsFor(r, n, k, { fgRate: 0.001, ignoreRate: 0.01 });
  const cpu = ops.sigmoidFocalLoss(logits, labels, k);
  const gpu = ops.sigmoidFocalLoss(logits, labels, k, CUDA);
  t.true(Math.abs(gpu.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss), `${gpu.loss} vs ${cpu.loss}`);
  t.true(scaledErr(gpu.grad, cpu.grad) <= 1e-5);
  t.true(Object.is(ops.sigmoidFocalLoss(logits, labels, k, { grad: false, ...CUDA }).loss, gpu.loss));
});

cudaTest('boxIou on CUDA gives the CPU\'s bits (random, tied, empty and touching boxes)', (t) => {
  const r = rng(400);
  for (const [na, nb] of [[1, 1], [37, 211], [500, 3], [1000, 1000]]) {
    const a = edgeBoxes(r, na);
    const b = edgeBoxes(r, nb);
    t.true(sameBits(ops.boxIou(a, b, CUDA), ops.boxIou(a, b)), `${na} x ${nb}`);
  }
  t.is(ops.boxIou(new Float32Array(0), randomBoxes(r, 3), CUDA).length, 0);
  const zero = new Float32Array(8); // two empty boxes: IoU 0
  t.deepEqual(Array.from(ops.boxIou(zero, zero, CUDA)), [0, 0, 0, 0]);
});

cudaTest('generateAnchors on CUDA gives the CPU\'s anchors (default and custom options)', (t) => {
  for (const opts of [
    { height: 800, width: 1024 },
    { height: 333, width: 517 },
    { height: 1, width: 1 },
    { height: 640, width: 640, rounding: 'none', offset: 0.5 },
    { height: 256, width: 384, levels: [2, 3], sizes: [16, 40], scales: [1, 1.5], aspectRatios: [0.25, 1, 3] },
  ]) {
    const cpu = ops.generateAnchors(opts);
    const gpu = ops.generateAnchors({ ...opts, ...CUDA });
    t.deepEqual(gpu.levels, cpu.levels);
    t.true(sameBits(gpu.anchors, cpu.anchors), JSON.stringify(opts));
  }
});

cudaTest('encodeBoxes / decodeBoxes on CUDA match the CPU within 1e-5', (t) => {
  const r = rng(500);
  const n = 20000;
  const anchors = randomBoxes(r, n, 800, 4, 400);
  const boxes = randomBoxes(r, n, 800, 1, 500);
  for (const weights of [undefined, [10, 10, 5, 5]]) {
    const cpuE = ops.encodeBoxes(anchors, boxes, { weights });
    const gpuE = ops.encodeBoxes(anchors, boxes, { weights, ...CUDA });
    t.true(scaledErr(gpuE, cpuE) <= 1e-5 && relErr(gpuE, cpuE, 1e-3) <= 1e-5, `encode ${relErr(gpuE, cpuE, 1e-3)}`);
    const deltas = new Float32Array(n * 4);
    for (let i = 0; i < deltas.length; i++) deltas[i] = r.uniform(-6, 6); // dw, dh beyond the clamp too
    for (const clip of [undefined, [600, 700]]) {
      const cpuD = ops.decodeBoxes(anchors, deltas, { weights, clip });
      const gpuD = ops.decodeBoxes(anchors, deltas, { weights, clip, ...CUDA });
      t.true(relErr(gpuD, cpuD, 1) <= 1e-5, `decode ${relErr(gpuD, cpuD, 1)}`);
    }
  }
  t.is(ops.encodeBoxes(new Float32Array(0), new Float32Array(0), CUDA).length, 0);
});

function matchProblem(r, m, { ties = true } = {}) {
  const { anchors } = ops.generateAnchors({ height: 384, width: 512 });
  const n = anchors.length / 4;
  const gt = randomBoxes(r, m, 480, 8, 300);
  if (ties) {
    // Some ground truth equal to anchors (IoU exactly 1, ties across scales) and duplicated boxes.
    for (let j = 0; j < m; j += 3) gt.set(anchors.subarray(r.int(0, n) * 4, r.int(0, n) * 4 + 4), j * 4);
    for (let j = 1; j < m; j += 7) gt.set(gt.subarray((j - 1) * 4, j * 4), j * 4);
  }
  return { anchors, gt };
}

for (const m of [0, 1, 5, 60, 300]) {
  cudaTest(`matchAnchors on CUDA gives the CPU's matches and IoUs (${m} boxes, exact ties, thresholds, low quality on and off)`, (t) => {
    const r = rng(600 + m);
    const { anchors, gt } = matchProblem(r, m);
    for (const allowLowQuality of [true, false]) {
      for (const [fgIou, bgIou] of [[0.5, 0.4], [0.7, 0.3], [0.5, 0.5], [0.3, 0]]) {
        const opts = { fgIou, bgIou, allowLowQuality };
        const cpu = ops.matchAnchors(anchors, gt, opts);
        const gpu = ops.matchAnchors(anchors, gt, { ...opts, ...CUDA });
        t.true(sameBits(gpu.matches, cpu.matches), `matches ${JSON.stringify(opts)}`);
        t.true(sameBits(gpu.maxIou, cpu.maxIou), `maxIou ${JSON.stringify(opts)}`);
      }
    }
  });
}

cudaTest('matchAnchorsBatch and retinanetTargetsBatch on CUDA: ragged ground truth in one call, the CPU\'s results', (t) => {
  const r = rng(700);
  const { anchors } = ops.generateAnchors({ height: 512, width: 512 });
  const counts = [3, 0, 57, 1, 400, 12];
  const gtBoxes = counts.map((m) => matchProblem(r, m).gt);
  const gtLabels = counts.map((m) => Int32Array.from({ length: m }, () => r.int(0, 80)));
  const cpuM = ops.matchAnchorsBatch(anchors, gtBoxes);
  const gpuM = ops.matchAnchorsBatch(anchors, gtBoxes, CUDA);
  t.true(sameBits(gpuM.matches, cpuM.matches));
  t.true(sameBits(gpuM.maxIou, cpuM.maxIou));
  for (const weights of [undefined, [10, 10, 5, 5]]) {
    const cpu = ops.retinanetTargetsBatch(anchors, gtBoxes, gtLabels, { weights });
    const gpu = ops.retinanetTargetsBatch(anchors, gtBoxes, gtLabels, { weights, ...CUDA });
    t.true(sameBits(gpu.labels, cpu.labels));
    t.true(sameBits(gpu.matches, cpu.matches));
    t.deepEqual(gpu.numForegroundPerImage, cpu.numForegroundPerImage);
    t.is(gpu.numForeground, cpu.numForeground);
    t.true(scaledErr(gpu.boxTargets, cpu.boxTargets) <= 1e-5 && relErr(gpu.boxTargets, cpu.boxTargets, 1e-3) <= 1e-5);
  }
  const one = ops.retinanetTargets(anchors, gtBoxes[2], gtLabels[2], CUDA);
  t.is(one.numForeground, ops.retinanetTargets(anchors, gtBoxes[2], gtLabels[2]).numForeground);
  const none = ops.retinanetTargetsBatch(anchors, [], [], CUDA);
  t.is(none.labels.length, 0);
});

cudaTest('matching on CUDA at the paper\'s size (16 images x 120k anchors, up to 100 boxes each)', (t) => {
  const r = rng(701);
  const { anchors } = ops.generateAnchors({ height: 1024, width: 1344 }); // ~ 240k anchors
  const gtBoxes = Array.from({ length: 16 }, (_, i) => randomBoxes(r, 1 + ((i * 37) % 100), 1000, 10, 600));
  const cpu = ops.matchAnchorsBatch(anchors, gtBoxes);
  const gpu = ops.matchAnchorsBatch(anchors, gtBoxes, CUDA);
  t.true(sameBits(gpu.matches, cpu.matches));
  t.true(sameBits(gpu.maxIou, cpu.maxIou));
});

function nmsProblem(r, n, { clusters = 0, tieRate = 0.2, groupsCount = 0 } = {}) {
  const boxes = clusters > 0 ? new Float32Array(n * 4) : edgeBoxes(r, n, 1000);
  if (clusters > 0) {
    const centres = Array.from({ length: clusters }, () => [r.uniform(0, 1000), r.uniform(0, 1000), r.uniform(20, 200)]);
    for (let i = 0; i < n; i++) {
      const [cx, cy, s] = centres[r.int(0, clusters)];
      const w = s * r.uniform(0.7, 1.3);
      const h = s * r.uniform(0.7, 1.3);
      const x = cx + r.uniform(-0.2, 0.2) * s;
      const y = cy + r.uniform(-0.2, 0.2) * s;
      boxes.set([x, y, x + w, y + h], i * 4);
    }
  }
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) scores[i] = r() < tieRate && i > 0 ? scores[r.int(0, i)] : r();
  const groups = groupsCount > 0 ? Int32Array.from({ length: n }, () => r.int(-groupsCount, groupsCount)) : null;
  return { boxes, scores, groups };
}

cudaTest('nms on CUDA keeps the CPU\'s boxes in the CPU\'s order (thresholds 0 ... 1, tied scores and boxes)', (t) => {
  const r = rng(800);
  for (const [n, clusters] of [[1, 0], [7, 0], [300, 0], [2000, 20], [5000, 0]]) {
    const { boxes, scores } = nmsProblem(r, n, { clusters });
    for (const th of [0, 0.3, 0.5, 0.7, 1]) {
      const cpu = ops.nms(boxes, scores, th);
      t.deepEqual(ops.nms(boxes, scores, th, CUDA), cpu, `n ${n}, threshold ${th}`);
    }
    const opts = { maxOutput: 5, scoreThreshold: 0.3 };
    t.deepEqual(ops.nms(boxes, scores, 0.5, { ...opts, ...CUDA }), ops.nms(boxes, scores, 0.5, opts));
  }
  t.is(ops.nms(new Float32Array(0), new Float32Array(0), 0.5, CUDA).length, 0);
  const { boxes, scores } = nmsProblem(r, 100);
  t.is(ops.nms(boxes, scores, 0.5, { maxOutput: 0, ...CUDA }).length, 0);
  t.is(ops.nms(boxes, scores, 0.5, { scoreThreshold: 2, ...CUDA }).length, 0);
});

cudaTest('batchedNms on CUDA: groups never interact; the CPU\'s keep set and order, maxOutput, scoreThreshold', async (t) => {
  const r = rng(801);
  for (const [n, g] of [[50, 1], [1000, 5], [3000, 80], [4000, 2000]]) {
    const { boxes, scores, groups } = nmsProblem(r, n, { clusters: 10, groupsCount: g });
    for (const opts of [{}, { maxOutput: 100 }, { scoreThreshold: 0.5 }, { maxOutput: 7, scoreThreshold: 0.1 }]) {
      const cpu = ops.batchedNms(boxes, scores, groups, 0.5, opts);
      t.deepEqual(ops.batchedNms(boxes, scores, groups, 0.5, { ...opts, ...CUDA }), cpu, `${n} boxes, ${g} groups`);
    }
    t.deepEqual(await ops.batchedNmsAsync(boxes, scores, groups, 0.6, CUDA), ops.batchedNms(boxes, scores, groups, 0.6));
  }
  t.deepEqual(await ops.nmsAsync(new Float32Array(0), new Float32Array(0), 0.5, CUDA), new Int32Array(0));
});

cudaTest('NMS on CUDA at 50k boxes (one group and 80 classes), the same bits on every run', (t) => {
  const r = rng(802);
  const { boxes, scores, groups } = nmsProblem(r, 50000, { clusters: 400, groupsCount: 40 });
  const cpu = ops.nms(boxes, scores, 0.5);
  const gpu = ops.nms(boxes, scores, 0.5, CUDA);
  t.deepEqual(gpu, cpu);
  t.deepEqual(ops.nms(boxes, scores, 0.5, CUDA), gpu);
  t.deepEqual(ops.batchedNms(boxes, scores, groups, 0.5, CUDA), ops.batchedNms(boxes, scores, groups, 0.5));
});


function sameDetections(t, gpu, cpu, what) {
  t.is(gpu.length, cpu.length, what);
  gpu.forEach((d, b) => {
    t.deepEqual(d.classes, cpu[b].classes, `${what}: image ${b} classes`);
    t.true(relErr(d.scores, cpu[b].scores, 1e-3) <= 1e-5, `${what}: image ${b} scores`);
    t.true(relErr(d.boxes, cpu[b].boxes, 1) <= 1e-5, `${what}: image ${b} boxes`);
  });
}

cudaTest('postprocess on CUDA gives the CPU\'s detections (batch 1 and 3, options, ties, async)', async (t) => {
  const r = rng(900);
  for (const [h, w, batch, k] of [[256, 256, 1, 3], [320, 448, 3, 20]]) {
    const levels = headOutputs(r, h, w, batch, k, 12);
    const sizes = Array.from({ length: batch }, (_, i) => [h - 13 * i, w - 7 * i]);
    for (const opts of [{}, { scoreThreshold: 0.2, topKPerLevel: 50, nmsThreshold: 0.3, maxDetections: 20 },
      { scoreThreshold: 0, topKPerLevel: 2000, maxDetections: 300 }, { weights: [10, 10, 5, 5] }, { topKPerLevel: 0 },
      { maxDetections: 0 }]) {
      const cpu = ops.postprocess(levels, k, sizes, opts);
      sameDetections(t, ops.postprocess(levels, k, sizes, { ...opts, ...CUDA }), cpu, JSON.stringify(opts));
    }
    sameDetections(t, await ops.postprocessAsync(levels, k, sizes, CUDA), ops.postprocess(levels, k, sizes), 'async');
  }
  // Tied scores across levels and classes: a constant logit everywhere.
  const flat = headOutputs(r, 128, 128, 2, 4).map((lv) => ({ ...lv, logits: lv.logits.fill(0.5) }));
  sameDetections(t, ops.postprocess(flat, 4, [[128, 128], [100, 90]], CUDA), ops.postprocess(flat, 4, [[128, 128], [100, 90]]), 'ties');
  t.deepEqual(ops.postprocess([], 4, [[10, 10]], CUDA), ops.postprocess([], 4, [[10, 10]]));
  t.deepEqual(ops.postprocess(flat.map((lv) => ({ ...lv, logits: new Float32Array(0), deltas: new Float32Array(0) })), 4, [], CUDA), []);
});

cudaTest('postprocess on CUDA at the paper\'s sizes (batch 16, 80 classes, 800 x 1024), the same bits on every run', (t) => {
  const r = rng(901);
  const levels = headOutputs(r, 800, 1024, 16, 80, 20);
  const sizes = Array.from({ length: 16 }, () => [800, 1024]);
  const cpu = ops.postprocess(levels, 80, sizes);
  const gpu = ops.postprocess(levels, 80, sizes, CUDA);
  sameDetections(t, gpu, cpu, 'batch 16');
  const again = ops.postprocess(levels, 80, sizes, CUDA);
  again.forEach((d, b) => {
    t.true(sameBits(d.boxes, gpu[b].boxes) && sameBits(d.scores, gpu[b].scores) && sameBits(d.classes, gpu[b].classes));
  });
});

cudaTest('postprocess on CUDA: NaN logits and non-finite deltas are the CPU\'s RangeErrors', (t) => {
  const r = rng(902);
  const levels = headOutputs(r, 256, 256, 2, 5, 10);
  const sizes = [[256, 256], [256, 256]];
  const nanLevels = levels.map((lv) => ({ ...lv, logits: lv.logits.slice() }));
  nanLevels[2].logits[nanLevels[2].logits.length - 3] = NaN; // image 1, level 2
  const cpuErr = t.throws(() => ops.postprocess(nanLevels, 5, sizes), { instanceOf: RangeError });
  t.throws(() => ops.postprocess(nanLevels, 5, sizes, CUDA), { instanceOf: RangeError, message: cpuErr.message });
  // A non-finite delta on the best-scoring box of image 0, level 0.
  const cpu = ops.postprocess(levels, 5, sizes, { topKPerLevel: 1 });
  t.true(cpu[0].scores.length > 0);
  const badLevels = levels.map((lv) => ({ ...lv, deltas: lv.deltas.slice() }));
  badLevels[0].deltas.fill(Infinity, 0, badLevels[0].deltas.length / 2);
  const cpuBad = t.throws(() => ops.postprocess(badLevels, 5, sizes), { instanceOf: RangeError });
  t.throws(() => ops.postprocess(badLevels, 5, sizes, CUDA), { instanceOf: RangeError, message: cpuBad.message });
});

cudaTest('a CUDA failure (out of device memory) is a JS Error with CUDA\'s message; the device keeps working', (t) => {
  // One group of 3M boxes: the pairwise suppression mask would need ~560 GB of device memory.
  const r = rng(903);
  const n = 3000000;
  const boxes = randomBoxes(r, n, 4000, 1, 50);
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) scores[i] = r();
  const e = t.throws(() => ops.nms(boxes, scores, 0.5, CUDA));
  t.false(e instanceof TypeError || e instanceof RangeError);
  t.is(e.code, 'ERR_RETINANET_CUDA');
  t.regex(e.message, /^CUDA error: .*memory/i);
  const a = randomBoxes(r, 10);
  t.true(sameBits(ops.boxIou(a, a, CUDA), ops.boxIou(a, a)));
  t.deepEqual(ops.nms(a, scores.subarray(0, 10), 0.5, CUDA), ops.nms(a, scores.subarray(0, 10), 0.5));
});
