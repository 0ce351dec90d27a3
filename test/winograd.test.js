'use strict';
// Winograd F(4x4, 3x3): the 3x3 stride-1 convolutions with 64+ channels in, 8+ out (forward with its fused
// epilogue, the input gradient and the filter gradient) against float64 sums, for odd and even sizes, 'same' and
// 'valid' padding and a batch of 2; and the direct kernel (RETINANET_WINOGRAD=0, in a fresh
// process) gives the same values within F(4x4)'s float32 error: its transforms scale values by up
// to 8 and back, so it is about ten times the direct kernel's (measured: 0.4-9e-6 of the largest
// output against float64, the direct kernel's 0.9-4.4e-7), hence the bound 2e-5.
// This process takes the Winograd path for every such shape, small ones included (RETINANET_WINOGRAD=1,
// read at the first convolution).
process.env.RETINANET_WINOGRAD = '1';
const test = require('ava');
const path = require('path');
const { spawnSync } = require('child_process');
const { SHAPES, inputs, reference, maxRelDiff, run } = require('./helpers/winograd-cases');

const TOL = 2e-5;

test('forward with its epilogue, the input gradient and the filter gradient equal float64 sums', (t) => {
  SHAPES.forEach((shape, i) => {
    const input = inputs(shape, 11 + i);
    const got = run(input);
    const want = reference(input);
    t.true(maxRelDiff(got.y, want.y) < TOL, `forward ${shape}: ${maxRelDiff(got.y, want.y)}`);
    t.true(maxRelDiff(got.dx, want.dx) < TOL, `input gradient ${shape}: ${maxRelDiff(got.dx, want.dx)}`);
    t.true(maxRelDiff(got.dw, want.dw) < TOL, `filter gradient ${shape}: ${maxRelDiff(got.dw, want.dw)}`);
  });
});

test('the direct kernel (RETINANET_WINOGRAD=0) gives the same values within float32 rounding', (t) => {
  const script = `const c = require('./test/helpers/winograd-cases');
    console.log(JSON.stringify(c.SHAPES.map((s, i) => { const r = c.run(c.inputs(s, 11 + i)); return { y: Array.from(r.y), dx: Array.from(r.dx), dw: Array.from(r.dw) }; })));`;
  const direct = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, RETINANET_WINOGRAD: '0' }, maxBuffer: 1 << 28 });
  t.is(direct.status, 0, direct.stderr);
  const theirs = JSON.parse(direct.stdout);
  // Per result (forward, input and filter gradients): the same bits in every shape would mean
  // that the direct kernel ran twice (two different summations agree only within rounding).
  const identical = { y: true, dx: true, dw: true };
  SHAPES.forEach((shape, i) => {
    const mine = run(inputs(shape, 11 + i));
    t.true(maxRelDiff(mine.y, theirs[i].y) < TOL, `forward ${shape}`);
    t.true(maxRelDiff(mine.dx, theirs[i].dx) < TOL, `input gradient ${shape}`);
    t.true(maxRelDiff(mine.dw, theirs[i].dw) < TOL, `filter gradient ${shape}`);
    for (const part of Object.keys(identical)) identical[part] = identical[part] && mine[part].every((v, j) => v === theirs[i][part][j]);
  });
  for (const [part, same] of Object.entries(identical)) t.false(same, `${part}: bit-identical to the direct kernel's: the Winograd path did not run`);
});

test('by default inference takes the path from 24 tiles of 4x4 outputs up, not below, and training keeps the direct kernels', (t) => {
  // 19x19 'same' outputs: 5 x 5 = 25 tiles; 14x14: 4 x 4 = 16 tiles. Each in a fresh process,
  // RETINANET_WINOGRAD unset and 0: the large shape's bits differ (Winograd ran by default), the
  // small one's are the same (the direct kernel ran both times).
  const shapes = [[1, 19, 19, 64, 64, 1], [1, 14, 14, 64, 72, 1]];
  // Per shape: the inference forward, a training step's forward (ops.conv2d's training flag, as
  // the tfjs kernels set it under a tape) and the filter gradient.
  const script = `const c = require('./test/helpers/winograd-cases'); const ops = require('./dist/ops');
    console.log(JSON.stringify(${JSON.stringify(shapes)}.map((s, i) => { const inp = c.inputs(s, 5 + i); const r = c.run(inp);
      return { y: Array.from(r.y), train: Array.from(ops.conv2d(inp.x, inp.w, inp.g, {}, 'float32', true)), dw: Array.from(r.dw) }; })));`;
  const env = { ...process.env };
  delete env.RETINANET_WINOGRAD;
  const fresh = (e) => {
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: e, maxBuffer: 1 << 28 });
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const auto = fresh(env);
  const direct = fresh({ ...env, RETINANET_WINOGRAD: '0' });
  const want = reference(inputs(shapes[0], 5)).y;
  const same = (a, b) => a.every((v, j) => v === b[j]);
  t.true(maxRelDiff(auto[0].y, want) < TOL, `the default path's forward: ${maxRelDiff(auto[0].y, want)}`);
  t.false(same(auto[0].y, direct[0].y), '25 tiles: the direct kernel ran by default');
  t.true(same(auto[1].y, direct[1].y), '16 tiles: the Winograd path ran by default');
  // Training keeps the direct kernels by default (RETINANET_WINOGRAD=1 opts in): same bits.
  t.true(same(auto[0].train, direct[0].train), 'a training forward took Winograd by default');
  t.true(same(auto[0].dw, direct[0].dw), 'the filter gradient took Winograd by default');
});

test('every vector path computes it: RETINANET_CPU_ISA=avx2 and baseline (the packed filters\' narrower strips)', (t) => {
  const ops = require('../dist/ops');
  const rank = { baseline: 0, avx2: 1, avx512: 2 };
  const script = `const c = require('./test/helpers/winograd-cases');
    console.log(JSON.stringify(c.SHAPES.map((s, i) => { const r = c.run(c.inputs(s, 11 + i)); return { y: Array.from(r.y), dx: Array.from(r.dx), dw: Array.from(r.dw) }; })));`;
  for (const isa of ['avx2', 'baseline']) {
    if (rank[ops.cpuIsa().supported] < rank[isa]) {
      t.log(`${isa}: not on this CPU`);
      continue;
    }
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', maxBuffer: 1 << 28,
      env: { ...process.env, RETINANET_WINOGRAD: '1', RETINANET_CPU_ISA: isa } });
    t.is(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    SHAPES.forEach((shape, i) => {
      const want = reference(inputs(shape, 11 + i));
      for (const part of ['y', 'dx', 'dw']) t.true(maxRelDiff(got[i][part], want[part]) < TOL, `${isa} ${part} ${shape}: ${maxRelDiff(got[i][part], want[part])}`);
    });
  }
});
