'use strict';
const test = require('ava');
const os = require('os');
const ops = require('../dist/ops');

test('thread count can be set, and 0 restores the default', (t) => {
  const before = ops.numThreads();
  t.true(before >= 1);
  ops.setNumThreads(3);
  t.is(ops.numThreads(), 3);
  ops.setNumThreads(0);
  t.is(ops.numThreads(), process.env.RETINANET_NUM_THREADS ? before : Math.min(os.cpus().length, 256));
  t.throws(() => ops.setNumThreads(-1), { instanceOf: RangeError, message: /^n:/ });
  t.throws(() => ops.setNumThreads(1.5), { instanceOf: RangeError });
  t.throws(() => ops.setNumThreads('2'), { instanceOf: TypeError });
});

test("devices() lists 'cpu'", (t) => {
  t.true(ops.devices().includes('cpu'));
});

test('the package root exports the tensor ops and the typed-array ops under ops', (t) => {
  const root = require('..');
  t.is(root.ops.sigmoidFocalLoss, ops.sigmoidFocalLoss);
  t.is(typeof root.sigmoidFocalLoss, 'function');
  t.not(root.sigmoidFocalLoss, ops.sigmoidFocalLoss);
});
