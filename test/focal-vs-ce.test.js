'use strict';
// `npm run focal-vs-ce` (experiments/focal-vs-ce.ts, outside the package): the quick version runs
// end to end (AP evaluated along each schedule at the right iterations, tables over seeds, the
// curves and Figure 4 drawn, results reused on a rerun), the queue puts the telling runs first,
// and the tables' statistics are the sample mean and standard deviation.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { queue, rows, tablesMarkdown, curveBudget } = require('../dist-experiments/focal-vs-ce');
const { runKey } = require('../dist-experiments/ablations');

const MAIN = path.join(__dirname, '..', 'dist-experiments', 'focal-vs-ce.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-focal-vs-ce-'));
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, RETINANET_NUM_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the queue: seed 1 of every row (the key pair and the no-prior run first), the key pair\'s seeds, then the rest', (t) => {
  const keys = queue(3).map(runKey);
  t.is(new Set(keys).size, keys.length);
  t.is(keys.length, 8 * 3 + 1);
  t.deepEqual(keys.slice(0, 3), ['ce-g0-a0.75-p0.01-sc3-ar3-s1', 'fl-g2-a0.25-p0.01-sc3-ar3-s1', 'ce-g0-anone-p0.5-sc3-ar3-s1']);
  t.true(keys.slice(0, 9).every((k) => k.endsWith('-s1')));
  t.deepEqual(keys.slice(9, 13).sort(), ['ce-g0-a0.75-p0.01-sc3-ar3-s2', 'ce-g0-a0.75-p0.01-sc3-ar3-s3', 'fl-g2-a0.25-p0.01-sc3-ar3-s2', 'fl-g2-a0.25-p0.01-sc3-ar3-s3']);
  t.deepEqual(queue(2, new Set(['fl2'])).map(runKey), ['fl-g2-a0.25-p0.01-sc3-ar3-s1', 'fl-g2-a0.25-p0.01-sc3-ar3-s2']);
  // --first-seed: the later seeds alone (seed 1 ran elsewhere), the key pair's first, no no-prior run.
  const later = queue(3, undefined, 2).map(runKey);
  t.deepEqual(later, keys.filter((k) => !k.endsWith('-s1')));
  t.deepEqual(later.slice(0, 4), keys.slice(9, 13));
  t.deepEqual(queue(3, new Set(['ce.75', 'fl2', 'no-prior']), 3).map(runKey), ['ce-g0-a0.75-p0.01-sc3-ar3-s3', 'fl-g2-a0.25-p0.01-sc3-ar3-s3']);
  // The full budget has the paper's kind of imbalance by construction: few small objects in 320 px images.
  const b = curveBudget(false);
  t.is(b.clipGradNorm, 0);
  t.true(b.size >= 320 && b.maxObject <= 32);
});

test('the tables give mean ± sample std over seeds, the paper\'s AP and the diverged runs', (t) => {
  const fl = rows().find((r) => r.id === 'fl2').spec;
  const mk = (seed, ap) => ({ key: runKey({ ...fl, seed }), spec: { ...fl, seed }, ap, ap50: ap, ap75: ap, recoveries: seed - 1, maxGradNorm: 10 * seed, seconds: 1,
    curve: [{ iteration: 500, ap: ap / 2, ap50: 0, loss: 1 }, { iteration: 1000, ap, ap50: 0, loss: 1 }] });
  const results = Object.fromEntries([mk(1, 0.3), mk(2, 0.4), mk(3, 0.5)].map((r) => [r.key, r]));
  const noPrior = rows().find((r) => r.id === 'no-prior').spec;
  results[runKey(noPrior)] = { key: runKey(noPrior), spec: noPrior, ap: 0, ap50: 0, ap75: 0, recoveries: 0, maxGradNorm: 1e4, seconds: 1, curve: [], diverged: 'the loss is NaN at iteration 7' };
  const md = tablesMarkdown(results, 3);
  // mean 40.0, sample std 10.0; AP at half the run: mean of 15, 20, 25; recoveries 0 + 1 + 2.
  t.regex(md, /\| FL, γ = 2, α = \.25 \| 3 \| 40\.0 ± 10\.0 \| 40\.0 ± 10\.0 \| 40\.0 ± 10\.0 \| 20\.0 \/ 40\.0 \| 3 \| 30\.0 \| 34\.0 \|/);
  t.regex(md, /\| CE, α = \.25 \| 0 \| \(not run\)/);
  t.regex(md, /\| CE, no α, bias 0 \(π = \.5\) \| 1 \(1 diverged: the loss is NaN at iteration 7\) \| — \|/);
});

test.serial('focal-vs-ce --quick runs end to end: curves at each evaluation, tables, pictures; a rerun trains nothing', (t) => {
  const out = path.join(root, 'quick');
  const r = cli('--quick', '--out', out, '--seeds', '2', '--jobs', '2', '--rows', 'ce.75,fl2,no-prior');
  t.is(r.code, 0, r.err + r.out);
  const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.true(res.finished);
  t.is(Object.keys(res.runs).length, 2 * 2 + 1);
  t.regex(r.out, /fg:bg = 1:\d+/);
  for (const x of Object.values(res.runs)) {
    if (x.diverged) continue;
    t.deepEqual(x.curve.map((c) => c.iteration), [3, 6], x.key);
    for (const c of x.curve) t.true(Number.isFinite(c.ap) && c.ap >= 0 && c.ap <= 1 && Number.isFinite(c.loss), x.key);
    t.is(x.ap, x.curve[1].ap);
    t.true(x.maxGradNorm > 0);
  }
  for (const f of ['curves.svg', 'curves-all.svg', 'figure4-positives.svg', 'figure4-negatives.svg']) t.regex(fs.readFileSync(path.join(out, f), 'utf8'), /^<svg/, f);
  const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
  for (const title of ['Table 1a', 'Table 1b', '§5.1']) t.true(md.includes(title), title);
  const again = cli('--quick', '--out', out, '--seeds', '2', '--jobs', '1', '--rows', 'ce.75,fl2,no-prior');
  t.is(again.code, 0, again.err);
  t.notRegex(again.out, /min\)$/m);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).runs, res.runs);
  const bad = cli('--quick', '--out', out, '--rows', 'fl9');
  t.is(bad.code, 2);
  t.regex(bad.err, /unknown row 'fl9'/);
  const over = cli('--quick', '--out', out, '--seeds', '2', '--first-seed', '3');
  t.not(over.code, 0);
  t.regex(over.err, /--first-seed 3 is above --seeds 2: no seed to run/);
});

test.serial('--normalizer batch divides the losses by each batch\'s own foreground count (the default: its moving average)', (t) => {
  const normalizers = (out) => {
    const dir = path.join(out, 'runs', 'fl-g2-a0.25-p0.01-sc3-ar3-s1');
    const [head, ...lines] = fs.readFileSync(path.join(dir, 'loss.csv'), 'utf8').trim().split('\n');
    const cols = head.split(',');
    return lines.map((l) => l.split(',')).map((v) => ({ normalizer: Number(v[cols.indexOf('normalizer')]), foreground: Number(v[cols.indexOf('foreground')]) }));
  };
  const batch = path.join(root, 'normalizer-batch');
  const r = cli('--quick', '--out', batch, '--seeds', '1', '--jobs', '2', '--rows', 'fl2', '--normalizer', 'batch');
  t.is(r.code, 0, r.err + r.out);
  t.regex(r.out, /losses ÷ the batch's foreground count/);
  const b = normalizers(batch);
  t.true(b.length >= 6);
  for (const x of b) t.is(x.normalizer, Math.max(1, x.foreground));
  const ema = path.join(root, 'normalizer-ema');
  t.is(cli('--quick', '--out', ema, '--seeds', '1', '--jobs', '1', '--rows', 'fl2').code, 0);
  const e = normalizers(ema);
  t.true(e.some((x) => x.normalizer !== Math.max(1, x.foreground)), 'the default normalizer is the batch count at every step');
  t.regex(cli('--quick', '--out', ema, '--normalizer', 'sum').err, /normalizer/);
});
