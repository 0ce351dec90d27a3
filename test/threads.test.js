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

test('retainFreedMemory: true where glibc is the C library, and large buffers are still freed for reuse, not leaked', (t) => {
  const glibc = Boolean(process.report && process.report.getReport().header.glibcVersionRuntime);
  t.is(ops.retainFreedMemory(), glibc);
  // With the setting on, freed outputs are reused: RSS stays bounded over many large calls.
  const a = new Float32Array(4 * 1e6).fill(0.5);
  const b = new Float32Array(40).map((_, i) => i);
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 100; i++) t.is(ops.boxIou(a.subarray(0, 4 * 100000), b).length, 1e6);
  const grew = process.memoryUsage().rss - rss0;
  t.true(grew < 160 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(0)} MB over 100 calls of 4 MB outputs (400 MB if kept)`);
  if (!glibc) return;
  // Above 32 MB too (a ResNet-50 step's 46 MB tensors; glibc's mmap threshold stops at 32 MB): a
  // freed 48 MB output's pages serve the next one instead of faulting in afresh (11,719 per call).
  const x = new Float32Array(12e6).fill(-0.5);
  let f0 = 0;
  for (let i = 0; i < 30; i++) {
    if (i === 10) f0 = process.resourceUsage().minorPageFault;
    t.is(ops.unaryOp('relu', x).length, x.length);
  }
  const perCall = (process.resourceUsage().minorPageFault - f0) / 20;
  t.true(perCall < 0.25 * (x.length * 4) / 4096, `${perCall.toFixed(0)} page faults per 48 MB output`);
});
