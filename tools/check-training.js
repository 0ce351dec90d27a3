#!/usr/bin/env node
'use strict';
// `npm run check:training`: training at the defaults on data the project's shapes generator does
// not make, as a user runs it. Writes a user-style dataset (test/helpers/user-dataset.js: JPEG,
// some one-component grayscale, 320x240 and other sizes, category ids 3/7/11/20, rings / checker
// tiles / stars / striped discs on textured backgrounds), runs `retinanet train` with only data,
// iterations, batch and image size given, then `retinanet eval` on held-out images, and fails
// (exit 1) unless the mean AP50 over the draws reaches the bar. Three draws of the data and the
// initialization (seeds 1, 2, 3) by default: one draw's AP50 moves by several points with the
// draw, and with float32 rounding alone (docs/training.md), so one draw near the bar says little.
//
//   node tools/check-training.js [--out DIR] [--train-images N] [--val-images N] [--iterations N]
//        [--batch N] [--min-size N] [--max-size N] [--min-ap50 X] [--seed N] [--seeds N]
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { makeUserDataset } = require('../test/helpers/user-dataset');

const DEFAULTS = { out: 'runs/check-training', 'train-images': 400, 'val-images': 300, iterations: 1500, batch: 4, 'min-size': 360, 'max-size': 480, 'min-ap50': 0.85, seed: 1, seeds: 3 };

function parse(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in DEFAULTS) || argv[i + 1] === undefined) {
      console.error(`check-training: unknown or incomplete flag ${argv[i]} (flags: ${Object.keys(DEFAULTS).map((k) => `--${k}`).join(' ')})`);
      process.exit(2);
    }
    o[key] = key === 'out' ? argv[i + 1] : Number(argv[i + 1]);
  }
  for (const key of ['seed', 'seeds', 'iterations', 'batch', 'train-images', 'val-images', 'min-size', 'max-size']) {
    if (!Number.isInteger(o[key]) || o[key] < (key === 'seed' ? 0 : 1)) {
      console.error(`check-training: --${key} must be a${key === 'seed' ? ' non-negative' : ' positive'} integer, got ${o[key]}`);
      process.exit(2);
    }
  }
  if (!(o['min-ap50'] >= 0 && o['min-ap50'] <= 1)) {
    console.error(`check-training: --min-ap50 must be a fraction in [0, 1], got ${o['min-ap50']}`);
    process.exit(2);
  }
  return o;
}

function retinanet(args) {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'main.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  if (r.status !== 0) {
    console.error(`check-training: retinanet ${args[0]} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  return r.stdout;
}

// One draw: its own data (seed) and initialization, trained and evaluated in out.
function draw(o, seed, out) {
  const t0 = Date.now();
  const data = path.join(out, 'data');
  fs.rmSync(out, { recursive: true, force: true });
  const train = makeUserDataset({ dir: path.join(data, 'train'), images: o['train-images'], seed });
  const val = makeUserDataset({ dir: path.join(data, 'val'), images: o['val-images'], seed: seed + 1000 });
  console.log(`check-training: seed ${seed}: ${train.images} training images (${train.grayscale} grayscale) and ${val.images} held out, ` +
    `${train.categories.length} classes (ids ${train.categories.map((c) => c.id).join('/')}) in ${data}`);
  // 1.5x the files' size: a third of the objects are 16-32 px, below the paper's smallest anchor
  // (32 px), where only low-quality matches reach them; upscaling is the user's remedy (the paper
  // trains COCO at 800 px). Measured (docs/training.md §9): r18-tiny AP50 72.6 at 360/480 and
  // 72.8 at 480/640; r18-small, the default now, 86.1 at 360/480 on 300 held-out images.
  const size = ['--min-size', String(o['min-size']), '--max-size', String(o['max-size'])];
  retinanet(['train', '--data', path.join(data, 'train'), '--out', path.join(out, 'train'), '--iterations', String(o.iterations), '--batch', String(o.batch), ...size]);
  retinanet(['eval', '--data', path.join(data, 'val'), '--checkpoint', path.join(out, 'train', 'checkpoint.safetensors'), '--out', path.join(out, 'eval'), '--quiet']);
  const [ap, ap50] = JSON.parse(fs.readFileSync(path.join(out, 'eval', 'eval.json'), 'utf8')).stats;
  const minutes = (Date.now() - t0) / 60000;
  console.log(`check-training: seed ${seed}: AP ${(100 * ap).toFixed(1)}  AP50 ${(100 * ap50).toFixed(1)}; ${minutes.toFixed(1)} min`);
  return { seed, ap, ap50, minutes };
}

function main() {
  const o = parse(process.argv.slice(2));
  fs.rmSync(o.out, { recursive: true, force: true });
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.seed + i);
  const runs = seeds.map((seed) => draw(o, seed, o.seeds === 1 ? o.out : path.join(o.out, `seed-${seed}`)));
  const mean = (k) => runs.reduce((a, r) => a + r[k], 0) / runs.length;
  const ap = mean('ap'), ap50 = mean('ap50');
  const passed = ap50 >= o['min-ap50'];
  const per = runs.map((r) => `${(100 * r.ap50).toFixed(1)}`).join(' / ');
  fs.writeFileSync(path.join(o.out, 'check.json'), `${JSON.stringify({ runs, meanAp: ap, meanAp50: ap50, minAp50: o['min-ap50'], passed }, null, 2)}\n`);
  const line = `AP ${(100 * ap).toFixed(1)}  AP50 ${(100 * ap50).toFixed(1)}${runs.length > 1 ? ` (mean of ${runs.length} draws, seeds ${seeds.join(', ')}: AP50 ${per})` : ''} on ${o['val-images']} held-out user-style images each ` +
    `(${o.iterations} iterations of ${o.batch} at ${o['min-size']}/${o['max-size']} px, defaults); ${runs.reduce((a, r) => a + r.minutes, 0).toFixed(1)} min`;
  if (!passed) {
    console.error(`check-training: FAILED: ${line}; the mean AP50 must be >= ${(100 * o['min-ap50']).toFixed(0)}`);
    process.exit(1);
  }
  console.log(`check-training: passed: ${line}`);
}

main();
