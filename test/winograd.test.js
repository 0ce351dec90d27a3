'use strict';
// Winograd F(2x2, 3x3): the 3x3 stride-1 convolutions with 64+ channels (forward with its fused
// epilogue, and the input gradient) against float64 sums, for odd and even sizes, 'same' and
// 'valid' padding and a batch of 2; and the direct kernel (RETINANET_WINOGRAD=0, in a fresh
// process) gives the same values within float32 rounding.
// This process takes the Winograd path whatever its default (read at the first convolution).
process.env.RETINANET_WINOGRAD = '1';
const test = require('ava');
const path = require('path');
const { spawnSync } = require('child_process');
const { SHAPES, inputs, reference, maxRelDiff, run } = require('./helpers/winograd-cases');

test('forward with its epilogue and the input gradient equal float64 sums', (t) => {
  SHAPES.forEach((shape, i) => {
    const input = inputs(shape, 11 + i);
    const got = run(input);
    const want = reference(input);
    t.true(maxRelDiff(got.y, want.y) < 2e-6, `forward ${shape}: ${maxRelDiff(got.y, want.y)}`);
    t.true(maxRelDiff(got.dx, want.dx) < 2e-6, `input gradient ${shape}: ${maxRelDiff(got.dx, want.dx)}`);
  });
});

test('the direct kernel (RETINANET_WINOGRAD=0) gives the same values within float32 rounding', (t) => {
  const script = `const c = require('./test/helpers/winograd-cases');
    console.log(JSON.stringify(c.SHAPES.map((s, i) => { const r = c.run(c.inputs(s, 11 + i)); return { y: Array.from(r.y), dx: Array.from(r.dx) }; })));`;
  const direct = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, RETINANET_WINOGRAD: '0' } });
  t.is(direct.status, 0, direct.stderr);
  const theirs = JSON.parse(direct.stdout);
  let identical = true;
  SHAPES.forEach((shape, i) => {
    const mine = run(inputs(shape, 11 + i));
    t.true(maxRelDiff(mine.y, theirs[i].y) < 2e-6, `forward ${shape}`);
    t.true(maxRelDiff(mine.dx, theirs[i].dx) < 2e-6, `input gradient ${shape}`);
    identical = identical && mine.y.every((v, j) => v === theirs[i].y[j]) && mine.dx.every((v, j) => v === theirs[i].dx[j]);
  });
  // Two different summations: the same bits everywhere would mean one path ran twice.
  t.false(identical, 'the Winograd and direct results are bit-identical: the Winograd path did not run');
});

