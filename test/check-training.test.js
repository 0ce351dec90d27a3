'use strict';
// tools/check-training.js (`npm run check:training`): draws of user-style data, each trained and
// evaluated through the command line, judged on the mean AP50. Tiny settings here (2 iterations,
// 128 px): what is checked is the bookkeeping — one result per draw, their mean, the verdict
// and its exit status — not the AP, which the full check measures (docs/training.md).
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const tool = path.join(__dirname, '..', 'tools', 'check-training.js');
const run = (args) => spawnSync(process.execPath, [tool, ...args], { encoding: 'utf8', env: { ...process.env, RETINANET_NUM_THREADS: '1' } });

test('two draws: one result per seed, the verdict on their mean AP50, exit 1 below the bar', (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'check-training-'));
  const r = run(['--out', out, '--iterations', '2', '--train-images', '4', '--val-images', '2', '--min-size', '128', '--max-size', '160', '--seeds', '2', '--seed', '5', '--min-ap50', '1']);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /check-training: FAILED: .*mean of 2 draws, seeds 5, 6.*the mean AP50 must be >= 100/);
  const check = JSON.parse(fs.readFileSync(path.join(out, 'check.json'), 'utf8'));
  t.deepEqual(check.runs.map((x) => x.seed), [5, 6]);
  t.is(check.meanAp50, (check.runs[0].ap50 + check.runs[1].ap50) / 2);
  t.false(check.passed);
  for (const s of [5, 6]) {
    const stats = JSON.parse(fs.readFileSync(path.join(out, `seed-${s}`, 'eval', 'eval.json'), 'utf8')).stats;
    t.is(stats[1], check.runs[s - 5].ap50, `seed ${s}: the AP50 its eval wrote`);
  }
  fs.rmSync(out, { recursive: true, force: true });
});

test('bad flags exit 2 with a message naming the flag', (t) => {
  for (const [args, msg] of [[['--seeds', '0'], /--seeds must be a positive integer, got 0/], [['--seed', '-1'], /--seed must be a non-negative integer/],
    [['--iterations', 'x'], /--iterations must be a positive integer, got NaN/], [['--min-ap50', '85'], /--min-ap50 must be a fraction in \[0, 1\], got 85/], [['--bogus', '1'], /unknown or incomplete flag --bogus/]]) {
    const r = run(args);
    t.is(r.status, 2, args.join(' '));
    t.regex(r.stderr, msg);
  }
});
