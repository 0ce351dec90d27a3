'use strict';
const test = require('ava');
const ops = require('../dist/ops');
const { anchorsRef } = require('./helpers/reference');

// torchvision's RetinaNet sizes: int(s * 2^(k/3)) for s in 32…512.
const TRUNCATED = [[32, 40, 50], [64, 80, 101], [128, 161, 203], [256, 322, 406], [512, 645, 812]];

test('level sizes: ceil(H / 2^l) x ceil(W / 2^l) x 9 for 640x640, 600x600, 800x1333', (t) => {
  const cases = {
    '640x640': [[80, 80], [40, 40], [20, 20], [10, 10], [5, 5]],
    '600x600': [[75, 75], [38, 38], [19, 19], [10, 10], [5, 5]],
    '800x1333': [[100, 167], [50, 84], [25, 42], [13, 21], [7, 11]],
  };
  for (const [key, maps] of Object.entries(cases)) {
    const [height, width] = key.split('x').map(Number);
    const { anchors, levels, anchorsPerLocation } = ops.generateAnchors({ height, width });
    t.is(anchorsPerLocation, 9);
    let start = 0;
    levels.forEach((lv, i) => {
      t.deepEqual([lv.height, lv.width], maps[i], `${key} P${lv.level}`);
      t.is(lv.level, 3 + i);
      t.is(lv.stride, 2 ** (3 + i));
      t.is(lv.start, start);
      t.is(lv.count, maps[i][0] * maps[i][1] * 9);
      start += lv.count;
    });
    t.is(anchors.length, start * 4);
  }
  t.is(ops.generateAnchors({ height: 640, width: 640 }).levels[0].count, 80 * 80 * 9);
});

// torch.round: halves go to the even neighbour (101 / 2 = 50.5 -> 50).
function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (Math.abs(d - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

test("cell anchors are torchvision's rounded ones (hand-computed)", (t) => {
  const { anchors, levels } = ops.generateAnchors({ height: 640, width: 640 });
  TRUNCATED.forEach((sizes, li) => {
    const start = levels[li].start * 4;
    const cell = Array.from(anchors.subarray(start, start + 36));
    const want = [];
    for (const ratio of [0.5, 1, 2]) {
      const hr = Math.sqrt(ratio);
      const wr = 1 / hr;
      for (const s of sizes) {
        const hw = (wr * s) / 2, hh = (hr * s) / 2;
        want.push(-roundHalfEven(hw), -roundHalfEven(hh), roundHalfEven(hw), roundHalfEven(hh));
      }
    }
    t.deepEqual(cell, want, `P${li + 3}`);
  });
  // P3's first three: ratio 0.5 (wide), sizes 32, 40, 50.
  t.deepEqual(Array.from(anchors.subarray(0, 12)), [-23, -11, 23, 11, -28, -14, 28, 14, -35, -18, 35, 18]);
  // P4's square anchor of size 101: 50.5 rounds to 50, as torch.round does.
  const p4 = levels[1].start * 4;
  t.deepEqual(Array.from(anchors.subarray(p4 + 20, p4 + 24)), [-50, -50, 50, 50]);
});

test('order is level, y, x, anchor; centres at (x * strideX, y * strideY); torchvision\'s strides are side // cells, 2^l with strides: pow2', (t) => {
  for (const strides of ['torchvision', 'pow2']) {
    const { anchors, levels } = ops.generateAnchors({ height: 800, width: 1344, strides });
    for (const lv of levels) {
      for (const [y, x, a] of [[0, 0, 0], [0, 1, 4], [1, 0, 8], [lv.height - 1, lv.width - 1, 5]]) {
        const i = lv.start + (y * lv.width + x) * 9 + a;
        const cell = lv.start + a;
        t.is(anchors[i * 4] - anchors[cell * 4], x * lv.strideX);
        t.is(anchors[i * 4 + 1] - anchors[cell * 4 + 1], y * lv.strideY);
        t.is(anchors[i * 4 + 2] - anchors[cell * 4 + 2], x * lv.strideX);
        t.is(anchors[i * 4 + 3] - anchors[cell * 4 + 3], y * lv.strideY);
      }
    }
    // 800 x 1344 (torchvision's padded 800 x 1333): P6 is 13 x 21, P7 7 x 11 cells.
    const strideOf = levels.map((lv) => [lv.strideY, lv.strideX]);
    t.deepEqual(strideOf, strides === 'pow2'
      ? [[8, 8], [16, 16], [32, 32], [64, 64], [128, 128]]
      : [[8, 8], [16, 16], [32, 32], [61, 64], [114, 122]], strides);
  }
  t.throws(() => ops.generateAnchors({ height: 8, width: 8, strides: 'even' }), { instanceOf: TypeError, message: /strides/ });
});

test('every anchor equals the step-by-step reference (800x1333 and options)', (t) => {
  t.deepEqual(ops.generateAnchors({ height: 800, width: 1333 }).anchors, anchorsRef(800, 1333));
  const opts = { levels: [2, 3], sizes: [16, 48], scales: [1, 1.5], aspectRatios: [1, 3], offset: 0.5 };
  t.deepEqual(
    ops.generateAnchors({ height: 100, width: 70, ...opts }).anchors,
    anchorsRef(100, 70, { ...opts, ratios: opts.aspectRatios }),
  );
  t.deepEqual(
    ops.generateAnchors({ height: 64, width: 64, rounding: 'none' }).anchors,
    anchorsRef(64, 64, { round: false }),
  );
});

test("rounding 'none' gives exact sizes: square anchors of side s * 2^(k/3)", (t) => {
  const { anchors } = ops.generateAnchors({ height: 8, width: 8, levels: [3], sizes: [32], rounding: 'none' });
  // Ratio 1 is the middle group: anchors 3, 4, 5.
  for (const [a, k] of [[3, 0], [4, 1], [5, 2]]) {
    const side = anchors[a * 4 + 2] - anchors[a * 4];
    t.true(Math.abs(side - 32 * 2 ** (k / 3)) < 1e-4, `side ${side}`);
  }
});

test('bad arguments are TypeError / RangeError naming the argument', (t) => {
  t.throws(() => ops.generateAnchors(), { instanceOf: TypeError });
  t.throws(() => ops.generateAnchors({ height: 0, width: 10 }), { instanceOf: RangeError, message: /height/ });
  t.throws(() => ops.generateAnchors({ height: 10.5, width: 10 }), { instanceOf: RangeError, message: /height/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: NaN }), { instanceOf: RangeError, message: /width/ });
  t.throws(() => ops.generateAnchors({ height: 10 }), { instanceOf: TypeError, message: /width/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, sizes: [32] }), { instanceOf: RangeError, message: /sizes/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, scales: [] }), { instanceOf: RangeError, message: /scales/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, aspectRatios: [1, -2] }), { instanceOf: RangeError, message: /aspectRatios\[1\]/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, rounding: 'up' }), { instanceOf: TypeError, message: /rounding/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, levels: [3, -1], sizes: [1, 2] }), { instanceOf: RangeError, message: /levels\[1\]/ });
  t.throws(() => ops.generateAnchors({ height: 10, width: 10, strides: [8] }), { instanceOf: TypeError, message: /strides/ });
});
