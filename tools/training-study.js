#!/usr/bin/env node
'use strict';
// The training study behind docs/training.md: each run trains in a fresh child process (so runs
// do not share a heap) on one of three datasets, evaluates COCO AP on held-out images, and
// appends one JSON line to the results file.
//
//   node tools/training-study.js plan.json results.jsonl     runs every entry of plan.json not yet in results.jsonl
//   node tools/training-study.js --one '{...}'              one run, its JSON line on stdout
//
// A plan entry: { name, data: 'user' | 'small' | 'shapes', iterations, batch, size?: [min, max],
//   preset?, lr?, warmup?, clip?, trainer?: {...TrainerOptions}, model?: {...RetinaNetConfig}, seed? }
// Datasets (made once under $STUDY_DIR, default /tmp/training-study): 'user' = 400 + 100 images of
// test/helpers/user-dataset.js (4 classes, 320x240 and others, JPEG, some gray); 'small' = 16
// training images of its first 3 classes (category ids 3/7/11) with objects of 40-160 px, scored on those 16; 'shapes' = the
// demo's shapes (400 + 100, 256 px).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const STUDY_DIR = process.env.STUDY_DIR || '/tmp/training-study';

function ensureData(name) {
  const dir = path.join(STUDY_DIR, name);
  if (fs.existsSync(path.join(dir, 'val', 'instances.json'))) return dir;
  if (name === 'shapes') {
    const { makeShapesDataset } = require('../dist/data/synthetic');
    const shapes = { size: 256, classes: 3, minObject: 24, maxObject: 128, maxObjectsPerImage: 6 };
    makeShapesDataset({ dir: path.join(dir, 'train'), images: 400, seed: 1, ...shapes });
    makeShapesDataset({ dir: path.join(dir, 'val'), images: 100, seed: 1 + 1_000_003, ...shapes });
  } else {
    const { makeUserDataset } = require('../test/helpers/user-dataset');
    const classes = name === 'small' ? 3 : 4;
    // 'small' trains at 128 px: objects of 40-160 px in the source images become 16-64 px.
    const objects = name === 'small' ? { minObject: 40, maxObject: 160 } : {};
    makeUserDataset({ dir: path.join(dir, 'train'), images: name === 'small' ? 16 : 400, seed: name === 'small' ? 5 : 1, classes, ...objects });
    makeUserDataset({ dir: path.join(dir, 'val'), images: 100, seed: 2, classes, ...objects });
  }
  return dir;
}

const SIZES = { user: [240, 320], small: [128, 128], shapes: [256, 256] };

function one(spec) {
  require('../dist/accel');
  const tf = require('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  const { loadCocoDataset } = require('../dist/data/coco');
  const { runTraining } = require('../dist/cli/train');
  const { runEvaluation } = require('../dist/cli/eval');
  const dir = ensureData(spec.data);
  const [minSize, maxSize] = spec.size ?? SIZES[spec.data];
  const train = loadCocoDataset(path.join(dir, 'train', 'instances.json'), path.join(dir, 'train', 'images'), { skipEmpty: true, onWarning: () => {} });
  // 'small' is scored on its own 16 images (what a user with 16 images can check), the others on held-out ones.
  const split = spec.data === 'small' ? 'train' : 'val';
  const val = loadCocoDataset(path.join(dir, split, 'instances.json'), path.join(dir, split, 'images'), { onWarning: () => {} });
  const out = path.join(STUDY_DIR, 'runs', spec.name);
  fs.rmSync(out, { recursive: true, force: true });
  const t0 = Date.now();
  let run, error = null;
  try {
    run = runTraining({
      dataset: train, out, preset: spec.preset ?? 'retinanet-r18-tiny', iterations: spec.iterations, batch: spec.batch,
      learningRate: spec.lr, warmup: spec.warmup, clipGradNorm: spec.clip, trainer: spec.trainer, model: spec.model,
      minSize, maxSize, flip: true, checkpointEvery: 1e9, resume: false, overwrite: true, seed: spec.seed ?? 1, quiet: true,
    });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const result = { ...spec, seconds: (Date.now() - t0) / 1000, error };
  if (run) {
    const rows = run.log;
    const tail = rows.slice(Math.floor(rows.length * 0.9));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    result.finalLoss = mean(tail.map((r) => r.loss));
    result.finalCls = mean(tail.map((r) => r.classification));
    result.maxCls = Math.max(...rows.map((r) => r.classification));
    result.maxGradNorm = Math.max(...rows.map((r) => r.gradNorm));
    result.recoveries = run.recoveries.map((r) => `${r.iteration}->${r.resumedAt}`);
    const detector = { model: run.model, classNames: train.categories.map((c) => c.name), minSize, maxSize };
    const ev = runEvaluation(detector, val, { batch: 4, scoreThreshold: 0.05, maxDetections: 100, quiet: true });
    [result.AP, result.AP50, result.AP75] = ev.result.stats.slice(0, 3).map((x) => Math.round(1000 * x) / 10);
    run.model.dispose();
  }
  return result;
}

function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    process.stdout.write(`${JSON.stringify(one(JSON.parse(args[1])))}\n`);
    return;
  }
  const [planFile, resultsFile] = args;
  if (!planFile || !resultsFile) {
    console.error('usage: node tools/training-study.js plan.json results.jsonl | --one JSON');
    process.exit(2);
  }
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  const done = new Set(fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).name) : []);
  for (const spec of plan) {
    if (done.has(spec.name)) continue;
    for (const d of new Set(plan.map((p) => p.data))) ensureData(d);
    const r = spawnSync(process.execPath, [__filename, '--one', JSON.stringify(spec)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      console.error(`${spec.name}: exit ${r.status ?? r.signal}`);
      continue;
    }
    const line = r.stdout.trim().split('\n').pop();
    fs.appendFileSync(resultsFile, `${line}\n`);
    const x = JSON.parse(line);
    console.log(`${x.name.padEnd(40)} AP ${String(x.AP ?? '-').padStart(5)} AP50 ${String(x.AP50 ?? '-').padStart(5)} maxCls ${(x.maxCls ?? NaN).toFixed(2)} rec ${(x.recoveries ?? []).length} ${x.seconds.toFixed(0)} s ${x.error ?? ''}`);
  }
}

main();
