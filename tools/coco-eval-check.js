#!/usr/bin/env node
// Compares evaluateCoco with pycocotools' COCOeval on random cases (several hundred images,
// crowds, all object sizes, score ties, >100 detections per image, boxes on integer
// coordinates so IoUs land on thresholds, detections on images and categories without ground
// truth). Needs a built dist/ (`npx tsc -p .`) and a python with numpy and pycocotools (from
// pip, or built from cocoapi's PythonAPI with `python3 setup.py build_ext --inplace` and put on
// PYTHONPATH):
//
//   PYTHON=/usr/bin/python3 node tools/coco-eval-check.js [cases=6] [images=400]
//
// Prints the largest differences in stats, precision, recall and scores, and whether the
// summary text is identical; exits 1 if any stat differs by more than 1e-12.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { evaluateCoco, formatSummary } = require('../dist/eval');

const PYTHON = process.env.PYTHON || 'python3';
const SCRIPT = path.join(__dirname, 'coco_eval_check.py');

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeCase(seed, numImages) {
  const r = mulberry32(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  // Some cases have enough categories (K >= 9) that numpy's mean runs over several 8192-element blocks.
  const cats = seed % 3 === 0 ? [1, 2, 3, 5, 8, 9, 13, 17, 21, 34, 55, 89] : [1, 2, 5, 9, 17];
  const imageIds = Array.from({ length: numImages }, (_, i) => 3 * i + 1 + (seed % 3));
  const gts = [];
  const dets = [];
  const integer = seed % 2 === 0; // integer boxes: IoUs hit thresholds exactly more often
  const q = (v) => (integer ? Math.round(v) : v);
  for (const imageId of imageIds) {
    const nGt = Math.floor(r() * 9);
    for (let g = 0; g < nGt; g++) {
      const size = pick([8, 16, 31, 32, 33, 64, 96, 97, 200]) * (integer ? 1 : 0.8 + 0.4 * r());
      const w = q(Math.max(1, size * (0.6 + 0.8 * r())));
      const h = q(Math.max(1, (size * size) / w));
      const gt = {
        imageId, categoryId: pick(cats.slice(0, -1)), bbox: [q(r() * 400), q(r() * 400), w, h],
        iscrowd: r() < 0.07 ? 1 : 0,
      };
      if (r() < 0.3) gt.area = r() < 0.2 ? pick([1024, 9216]) : w * h * (0.5 + 0.5 * r());
      gts.push(gt);
      // A companion on (almost) the same spot: equal IoUs, and a regular object next to an
      // ignored one (crowd, or outside the area range), which the matching's break rule handles.
      if (r() < 0.15) {
        const s = Math.floor(r() * 3);
        const twin = {
          imageId, categoryId: gt.categoryId, bbox: [gt.bbox[0] + s, gt.bbox[1] + s, w, h],
          iscrowd: r() < 0.4 ? 1 : 0, area: pick([w * h, 500, 1024, 5000, 9216, 20000]),
        };
        gts.push(twin);
      }
      // Detections near this object: jittered copies, duplicates.
      const nDet = r() < 0.15 ? 0 : 1 + Math.floor(r() * 3);
      for (let d = 0; d < nDet; d++) {
        const j = (s) => (r() - 0.5) * s * (d === 0 ? 0.2 : 0.6);
        dets.push({
          imageId, categoryId: r() < 0.9 ? gt.categoryId : pick(cats),
          bbox: [q(gt.bbox[0] + j(w)), q(gt.bbox[1] + j(h)), q(Math.max(0, w + j(w))), q(Math.max(0, h + j(h)))],
          score: Math.round(r() * 50) / 50, // coarse scores: many ties
        });
      }
      // Exact copies of a crowd region's inside.
      if (gt.iscrowd) {
        for (let d = 0; d < 3; d++) {
          dets.push({ imageId, categoryId: gt.categoryId, bbox: [gt.bbox[0] + d, gt.bbox[1] + d, w / 3, h / 3], score: r() });
        }
      }
    }
    // Background false positives; some images get more than 100 of one category.
    const nFp = r() < 0.03 ? 130 : Math.floor(r() * 6);
    const fpCat = pick(cats);
    for (let d = 0; d < nFp; d++) {
      dets.push({
        imageId, categoryId: nFp > 100 ? fpCat : pick(cats),
        bbox: [q(r() * 450), q(r() * 450), q(2 + r() * 150), q(2 + r() * 150)],
        score: nFp > 100 ? Math.round(r() * 10) / 10 : r(),
      });
    }
  }
  return { gts, dets, imageIds, cats: cats.concat([23]) }; // 23: a category with nothing at all
}

function toCoco({ gts, dets, imageIds, cats }, explicit) {
  return {
    images: imageIds,
    categories: cats,
    annotations: gts.map((g, i) => ({
      id: i + 1, image_id: g.imageId, category_id: g.categoryId, bbox: g.bbox,
      area: g.area ?? g.bbox[2] * g.bbox[3], iscrowd: g.iscrowd ? 1 : 0,
    })),
    results: dets.map((d) => ({ image_id: d.imageId, category_id: d.categoryId, bbox: d.bbox, score: d.score })),
    imgIds: explicit ? explicit.imageIds : null,
    catIds: explicit ? explicit.categoryIds : null,
  };
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function main() {
  const cases = Number(process.argv[2] || 6);
  const numImages = Number(process.argv[3] || 400);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-eval-check-'));
  let worst = 0;
  let ok = true;
  for (let seed = 1; seed <= cases; seed++) {
    const c = makeCase(seed, numImages);
    // Odd seeds: pycocotools' defaults (every image and category of the dataset), so the JS side
    // gets them as options. Even seeds: a subset of images and categories on both sides.
    const explicit = seed % 2 === 1
      ? { imageIds: c.imageIds, categoryIds: c.cats }
      : { imageIds: c.imageIds.filter((_, i) => i % 5 !== 0), categoryIds: c.cats.filter((_, i) => i % 4 !== 1) };
    const casePath = path.join(dir, `case${seed}.json`);
    const outPath = path.join(dir, `out${seed}.json`);
    fs.writeFileSync(casePath, JSON.stringify(toCoco(c, seed % 2 === 1 ? null : explicit)));
    execFileSync(PYTHON, [SCRIPT, casePath, outPath], { stdio: 'inherit' });
    const py = JSON.parse(fs.readFileSync(outPath, 'utf8'));
    const t0 = process.hrtime.bigint();
    const js = evaluateCoco(c.gts, c.dets, explicit);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const d = {
      stats: maxDiff(js.stats, py.stats),
      precision: maxDiff(js.precision.data, py.precision),
      recall: maxDiff(js.recall.data, py.recall),
      scores: maxDiff(js.scores.data, py.scores),
    };
    const sameText = formatSummary(js.stats) + '\n' === py.summary;
    worst = Math.max(worst, d.stats);
    if (!(d.stats <= 1e-12) || !sameText) ok = false;
    console.log(`case ${seed}: ${c.gts.length} gts, ${c.dets.length} dets, ${ms.toFixed(0)} ms; max |diff| ` +
      `stats ${d.stats.toExponential(2)} precision ${d.precision.toExponential(2)} ` +
      `recall ${d.recall.toExponential(2)} scores ${d.scores.toExponential(2)}; summary text ${sameText ? 'identical' : 'DIFFERS'}`);
    if (seed === 1) console.log(py.summary.trimEnd());
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`largest stats difference over ${cases} cases: ${worst.toExponential(2)}`);
  process.exit(ok ? 0 : 1);
}

main();
