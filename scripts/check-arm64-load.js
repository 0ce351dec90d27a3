#!/usr/bin/env node
// Helper of scripts/check-arm64.sh (plain Node, no dependencies, so that the arm64 Node under
// qemu-aarch64 runs it as it is):
//
//   node scripts/check-arm64-load.js run ADDON.node > out.json   loads the addon, calls a few of its
//       functions on small fixed inputs, prints the results as JSON
//   node scripts/check-arm64-load.js compare X64.json ARM64.json  compares two such outputs; exit 1
//       when they differ by more than the tolerance
'use strict';
const path = require('path');

/** Fixed pseudo-random numbers (the same sequence on every machine: integer arithmetic only). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomBoxes(n, r) {
  const b = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x = r() * 90, y = r() * 90;
    b.set([x, y, x + 2 + r() * 30, y + 2 + r() * 30], i * 4);
  }
  return b;
}

function run(file) {
  const a = require(path.resolve(file));
  const r = rng(12345);
  const out = { arch: process.arch, cpuIsa: a.cpuIsa(), devices: a.devices(), cudaBuilt: a.cudaInfo().built };

  // Focal loss with its gradient: 301 anchors x 7 classes, every kind of label.
  const n = 301, k = 7;
  const logits = new Float32Array(n * k).map(() => (r() - 0.5) * 16);
  const labels = new Int32Array(n).map(() => Math.floor(r() * (k + 2)) - 2);
  for (const star of [false, true]) {
    const [loss, grad] = a.focalLoss(logits, labels, {
      numClasses: k, star, useAlpha: true, alpha: 0.25, gamma: star ? 1 : 2, beta: star ? 1 : 0, normalizer: 17, grad: true,
    });
    out[star ? 'focalLossStar' : 'focalLoss'] = { loss, grad: Array.from(grad) };
  }

  // GEMM: k over one cache block (256), m and n not multiples of the tiles, a batch of 2, both
  // transposes, a fused bias + ReLU epilogue; and n = 8 (the narrow tile).
  for (const [name, m, nn, kk, ta, tb, epi] of [
    ['batchMatMul', 37, 29, 300, false, false, true],
    ['batchMatMulT', 13, 21, 64, true, true, false],
    ['batchMatMulNarrow', 50, 8, 40, false, false, false],
  ]) {
    const batch = 2;
    const A = new Float32Array(batch * m * kk).map(() => r() * 2 - 1);
    const B = new Float32Array(batch * kk * nn).map(() => r() * 2 - 1);
    const bias = epi ? new Float32Array(nn).map(() => r() - 0.5) : null;
    const c = a.batchMatMul(A, B, { batchA: batch, batchB: batch, m, n: nn, k: kk, transposeA: ta, transposeB: tb },
      { bias, activation: epi ? 1 : 0, leakyreluAlpha: 0, residual: null });
    out[name] = Array.from(c);
  }

  // IoU and NMS (exact: no FMA contraction in the box math).
  const boxes = randomBoxes(60, r);
  out.boxIou = Array.from(a.boxIou(boxes.subarray(0, 80), boxes));
  const scores = new Float32Array(60).map(() => r());
  const groups = new Int32Array(60).map(() => Math.floor(r() * 3));
  out.batchedNms = Array.from(a.batchedNms(boxes, scores, groups,
    { iouThreshold: 0.3, maxOutput: -1, useScoreThreshold: false, scoreThreshold: 0 }));
  return out;
}

/** Values within 1e-5 relative (1e-5 absolute below 1); integers and strings exactly. */
function compare(x, y) {
  const lines = [];
  let bad = 0;
  for (const key of Object.keys(x)) {
    if (['arch', 'cpuIsa', 'devices', 'cudaBuilt'].includes(key)) continue; // per machine: checked below
    const flat = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? [v.loss, ...(v.grad || [])]
      : Array.isArray(v) ? v : [v]);
    const u = flat(x[key]), v = flat(y[key]);
    if (u.length !== v.length) {
      lines.push(`${key}: FAIL (${u.length} values on x64, ${v.length} on arm64)`);
      bad++;
      continue;
    }
    let maxDiff = 0, same = 0, over = 0;
    for (let i = 0; i < u.length; i++) {
      if (typeof u[i] !== 'number' || typeof v[i] !== 'number') {
        if (JSON.stringify(u[i]) === JSON.stringify(v[i])) same++;
        else over++;
        continue;
      }
      const d = Math.abs(u[i] - v[i]);
      if (Object.is(u[i], v[i])) same++;
      maxDiff = Math.max(maxDiff, d);
      if (!(d <= 1e-5 * Math.max(1, Math.abs(u[i])))) over++;
    }
    if (over) bad++;
    lines.push(`${key}: ${over ? 'FAIL' : 'ok'} (${u.length} values, ${same} bit-identical, max |diff| ${maxDiff.toExponential(2)})`);
  }
  return { lines, bad };
}

function main(argv) {
  if (argv[0] === 'run' && argv.length === 2) {
    process.stdout.write(JSON.stringify(run(argv[1])) + '\n');
  } else if (argv[0] === 'compare' && argv.length === 3) {
    const fs = require('fs');
    const x = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
    const y = JSON.parse(fs.readFileSync(argv[2], 'utf8'));
    console.log(`x64 (${x.arch}, cpuIsa ${x.cpuIsa.active}) vs arm64 (${y.arch}, cpuIsa ${y.cpuIsa.active}, devices ${y.devices.join(', ')})`);
    const { lines, bad } = compare(x, y);
    for (const l of lines) console.log(`  ${l}`);
    // The arm64 build: the portable GEMM path (NEON) and no CUDA.
    const arm64Bad = [];
    if (y.arch !== 'arm64') arm64Bad.push(`process.arch is ${y.arch}, not arm64`);
    if (y.cpuIsa.active !== 'baseline') arm64Bad.push(`cpuIsa is ${y.cpuIsa.active}, not baseline`);
    if (y.cudaBuilt || y.devices.join() !== 'cpu') arm64Bad.push(`CUDA built: ${y.cudaBuilt}, devices: ${y.devices.join(', ')}`);
    console.log(`  arm64 build: ${arm64Bad.length ? `FAIL (${arm64Bad.join('; ')})` : 'ok (arm64, cpuIsa baseline, no CUDA, devices cpu)'}`);
    process.exit(bad || arm64Bad.length ? 1 : 0);
  } else {
    console.error('usage: node scripts/check-arm64-load.js run ADDON.node | compare X64.json ARM64.json');
    process.exit(2);
  }
}

main(process.argv.slice(2));
