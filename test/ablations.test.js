'use strict';
// `npm run ablations` (experiments/ablations.ts, outside the package): the quick version runs end to end on tiny data (every table, Figure 4,
// results.json with finite AP), and the model's loss options (CE = FL with γ = 0, α-balancing
// on or off, FL*) compute what the paper's formulas give by hand.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
require('../dist/accel');
tf.env().set('PROD', true);
const ops = require('../dist/ops');
const { createRetinaNet } = require('../dist/model/retinanet');
const { sigmoidFocalLoss } = require('../dist/tfjs/focal-loss');
const { lossCdfs, runKey, tables, TABLE_IDS } = require('../dist-experiments/ablations');

const MAIN = path.join(__dirname, '..', 'dist-experiments', 'ablations.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-ablations-'));
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, RETINANET_NUM_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const logSigmoid = (z) => -(Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z))));

/** Σ over anchors and classes of the α-balanced CE, by hand (labels: class, -1 background, -2 ignored). */
function balancedCe(logits, labels, k, alpha) {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < -1) continue;
    for (let c = 0; c < k; c++) {
      const y = labels[i] === c ? 1 : -1;
      const at = alpha === null ? 1 : y === 1 ? alpha : 1 - alpha;
      s += -at * logSigmoid(y * logits[i * k + c]);
    }
  }
  return s;
}

/** FL* (appendix eq. 6–8) by hand, α-balanced: −α_t log σ(γ y x + β) / γ. */
function flStar(logits, labels, k, alpha, gamma, beta) {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < -1) continue;
    for (let c = 0; c < k; c++) {
      const y = labels[i] === c ? 1 : -1;
      const at = y === 1 ? alpha : 1 - alpha;
      s += (-at * logSigmoid(gamma * y * logits[i * k + c] + beta)) / gamma;
    }
  }
  return s;
}

test('the focal loss with γ = 0 is α-balanced CE on a few anchors (and plain CE with α null)', (t) => {
  const logits = new Float32Array([2.5, -1, 0.3, -4, 0.7, 1.2, -0.2, 3.1, -2.2, 0, 0, 0]);
  const labels = new Int32Array([0, -1, 2, -2]);
  for (const alpha of [0.25, 0.75, null]) {
    const got = sigmoidFocalLoss(tf.tensor2d(logits, [4, 3]), tf.tensor1d(labels, 'int32'), { alpha, gamma: 0, normalizer: 1 }).dataSync()[0];
    const want = balancedCe(logits, labels, 3, alpha);
    t.true(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `α ${alpha}: ${got} vs ${want}`);
  }
});

test('config: loss options are validated; anchors per location follow the scales and aspect ratios', (t) => {
  const tiny = { preset: 'retinanet-r18-tiny', numClasses: 2 };
  t.throws(() => createRetinaNet({ ...tiny, alpha: 1.5 }), { instanceOf: RangeError, message: /alpha/ });
  t.throws(() => createRetinaNet({ ...tiny, classificationLoss: 'ce' }), { instanceOf: RangeError, message: /classificationLoss/ });
  t.throws(() => createRetinaNet({ ...tiny, prior: 0 }), { instanceOf: RangeError, message: /prior/ });
  t.throws(() => createRetinaNet({ ...tiny, gamma: -1 }), { instanceOf: RangeError, message: /gamma/ });
  for (const [scales, aspectRatios, a] of [[[1], [1], 1], [[1, 2 ** (1 / 3), 2 ** (2 / 3)], [1], 3], [[1], [0.5, 1, 2], 3], [undefined, undefined, 9]]) {
    const m = createRetinaNet({ ...tiny, alpha: null, anchors: { scales, aspectRatios } });
    t.is(m.anchorsPerLocation, a);
    const heads = m.forward(tf.zeros([1, 64, 64, 3]));
    const anchors = m.anchors(64, 64).anchors.length / 4;
    t.is(heads.reduce((s, h) => s + h.logits.shape[1], 0), anchors);
    tf.dispose(heads.flatMap((h) => [h.logits, h.deltas]));
    m.dispose();
  }
});

test("the model's classification loss: CE (γ = 0) and FL* are the formulas by hand on its outputs, and differ from FL", (t) => {
  const k = 2;
  const image = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 3);
  const boxes = [new Float32Array([8, 10, 40, 44, 30, 5, 60, 30])];
  const gtLabels = [new Int32Array([0, 1])];
  const losses = {};
  for (const [name, cfg] of Object.entries({
    fl: {}, ce75: { gamma: 0, alpha: 0.75 }, ceNone: { gamma: 0, alpha: null },
    star21: { classificationLoss: 'focal-star', gamma: 2, focalStarBeta: 1 }, star40: { classificationLoss: 'focal-star', gamma: 4, focalStarBeta: 0 },
  })) {
    const m = createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: k, seed: 5, ...cfg });
    const l = m.loss(image, boxes, gtLabels);
    const got = l.classification.dataSync()[0];
    tf.dispose([l.total, l.classification, l.box]);
    // By hand on the same outputs: targets, logits concatenated over levels, normalized by the foreground count.
    const { anchors } = m.anchors(64, 64);
    const tg = ops.retinanetTargetsBatch(anchors, boxes, gtLabels, { numClasses: k });
    const heads = m.forward(image);
    const logits = Float32Array.from(heads.flatMap((h) => Array.from(h.logits.dataSync())));
    tf.dispose(heads.flatMap((h) => [h.logits, h.deltas]));
    const norm = Math.max(1, tg.numForeground);
    let want;
    if (name === 'ce75') want = balancedCe(logits, tg.labels, k, 0.75) / norm;
    if (name === 'ceNone') want = balancedCe(logits, tg.labels, k, null) / norm;
    if (name === 'star21') want = flStar(logits, tg.labels, k, 0.25, 2, 1) / norm;
    if (name === 'star40') want = flStar(logits, tg.labels, k, 0.25, 4, 0) / norm;
    if (want !== undefined) t.true(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${name}: ${got} vs ${want}`);
    losses[name] = got;
    m.dispose();
  }
  image.dispose();
  t.true(tg0(losses));
  function tg0(l) {
    const v = Object.values(l);
    return v.every((x) => Number.isFinite(x)) && new Set(v.map((x) => x.toFixed(6))).size === v.length;
  }
});

test('Figure 4 CDFs: start at 0, end at 1, never decrease; higher γ puts more of the negatives\' loss on the hardest', (t) => {
  // Negatives: many easy (very negative logits), a few hard; positives: mixed.
  const k = 1;
  const n = 1000;
  const logits = new Float32Array(n);
  const labels = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) logits[i] = i < 20 ? 1 : -3 - (i % 7);
  for (let i = 0; i < 10; i++) {
    labels[n - 1 - i] = 0;
    logits[n - 1 - i] = i - 3;
  }
  const cdfs = lossCdfs(logits, labels, k, [0, 2], 50);
  for (const c of cdfs) {
    for (const g of [c.positives, c.negatives]) {
      t.deepEqual(g[0], [0, 0]);
      t.true(Math.abs(g[g.length - 1][1] - 1) < 1e-12);
      for (let i = 1; i < g.length; i++) t.true(g[i][1] >= g[i - 1][1] - 1e-15);
    }
  }
  const at = (g, x) => g.find((p) => p[0] >= x - 1e-9)[1];
  t.true(at(cdfs[1].negatives, 0.9) < at(cdfs[0].negatives, 0.9));
});

test.serial('ablations --quick runs end to end: every table, finite AP, Figure 4, results.json; a rerun reuses the finished runs', (t) => {
  const out = path.join(root, 'quick');
  const r = cli('--quick', '--out', out, '--seeds', '2', '--jobs', '2');
  t.is(r.code, 0, r.err + r.out);
  const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.true(res.finished);
  t.is(res.budget.size, 64);
  t.true(res.foreground.foreground > 0 && res.foreground.background > res.foreground.foreground);
  const alpha = res.bestAlpha;
  t.true([0.25, 0.5, 0.75, 0.9].includes(alpha));
  const tabs = tables(alpha, 2);
  t.deepEqual(tabs.map((x) => x.id), TABLE_IDS.filter((id) => id !== 'fig4'));
  for (const tab of tabs) {
    for (const row of tab.rows) {
      const x = res.runs[runKey(row.spec)];
      t.truthy(x, `${tab.id}: ${runKey(row.spec)} missing`);
      if (!x.diverged) for (const v of [x.ap, x.ap50, x.ap75]) t.true(Number.isFinite(v) && v >= 0 && v <= 1, `${x.key}: ${v}`);
    }
  }
  t.is(Object.keys(res.runs).length, 4 + 4 + 1 + 3 + 2 + 2);
  t.deepEqual(res.figure4.cdfs.map((c) => c.gamma), [0, 0.5, 1, 2]);
  for (const f of ['figure4-positives.svg', 'figure4-negatives.svg']) t.regex(fs.readFileSync(path.join(out, f), 'utf8'), /^<svg/);
  const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
  for (const title of ['Table 1a', 'Table 1b', '§5.1', 'Table 1c', 'Table 3', 'Key comparison']) t.true(md.includes(title), title);
  t.regex(r.out, /Table 1a/);
  // A rerun finds every run finished and trains nothing.
  const again = cli('--quick', '--out', out, '--seeds', '2', '--jobs', '2', '--tables', '1a,3');
  t.is(again.code, 0, again.err);
  t.notRegex(again.out, /\(\d+ s\)/);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).runs, res.runs);
  // Bad table names are a usage error.
  const bad = cli('--quick', '--out', out, '--tables', '9z');
  t.is(bad.code, 2);
  t.regex(bad.err, /unknown table '9z'/);
});
