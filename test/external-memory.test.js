'use strict';
// The Trainer's step and detect() count native outputs' external memory late
// (native/binding/convert.h, lib/runtime/memory.ts): V8 sees none of them while the call runs and
// those still live when it ends, so that it runs no collections for the call's growing buffers.
const test = require('ava');
const { spawnSync } = require('child_process');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { native } = require('../dist/runtime/addon');

const MB = 2 ** 20;

// Runs `body` in a fresh Node process and returns what it prints as JSON. The counts are read
// there: in the test runner's process a collection inside a measured window can free an earlier
// test's buffers (V8 may finish sweeping them at any allocation) and move the count (seen in CI).
// `body` has: output() (a new 16 MiB native output), v8Count() (V8's own count of external bytes,
// what its heuristics see, read by opening and closing an empty deferral: at depth 0 that changes
// nothing), native(), withDeferredExternalMemory, R and print(() => value).
function inFreshProcess(t, body) {
  const root = JSON.stringify(path.join(__dirname, '..'));
  const script = `
    const R = require(${root});
    const { withDeferredExternalMemory } = require(require('path').join(${root}, 'dist', 'runtime'));
    const { native } = require(require('path').join(${root}, 'dist', 'runtime', 'addon'));
    const FLOATS = 4 * ${MB};
    const a = new Float32Array(FLOATS).fill(1), b = new Float32Array(FLOATS).fill(2);
    const output = () => R.ops.binaryOp('add', a, [FLOATS], b, [FLOATS]);
    const v8Count = () => { native().deferExternalMemory(true); return native().deferExternalMemory(false)[1]; };
    const print = (f) => setTimeout(() => console.log(JSON.stringify(f())), 20);  // f() read then: gc entries arrive late
    ${body}`;
  const p = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.is(p.status, 0, p.stderr);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

test('inside a deferral a native output is not counted, and is counted in full once the outermost one closes', (t) => {
  const r = inFreshProcess(t, `
    const before = v8Count();
    let inner = NaN, nested = NaN, kept;
    const value = withDeferredExternalMemory(() => {
      kept = [output()];
      inner = native().deferExternalMemory(true)[1] - before;
      withDeferredExternalMemory(() => kept.push(output()));
      nested = native().deferExternalMemory(false)[1] - before;  // closes the extra level only
      return 'value';
    });
    const after = v8Count() - before;
    print(() => ({ value, first: kept[0][0], inner, nested, after, extraClose: native().deferExternalMemory(false)[0] }));`);
  t.is(r.value, 'value');
  t.is(r.first, 3);
  t.true(Math.abs(r.inner) < 0.25 * MB, `inside: +${(r.inner / MB).toFixed(2)} MiB for a 16 MiB output (none)`);
  t.true(Math.abs(r.nested) < 0.25 * MB, `after a nested one closed: +${(r.nested / MB).toFixed(2)} MiB (still deferred: none)`);
  t.true(Math.abs(r.after - 32 * MB) < 0.25 * MB, `after the outermost closed: +${(r.after / MB).toFixed(2)} MiB for two 16 MiB outputs`);
  t.is(r.extraClose, 0, 'a close with none open stays at depth 0');
});

test('an output released early inside a deferral leaves the count where it was, and the close adds only what is still live', (t) => {
  const r = inFreshProcess(t, `
    const before = v8Count();
    let during = NaN, kept;
    withDeferredExternalMemory(() => {
      for (let i = 0; i < 4; i++) native().releaseBuffer(output().buffer);
      kept = output();
      during = v8Count() - before;
    });
    const after = v8Count() - before;
    print(() => ({ during, after, length: kept.length }));`);
  // Before the mend the count fell by every released output (here 64 MiB) and rose by all of
  // them at the close: a swing that started a full collection after every deferred call.
  t.true(Math.abs(r.during) < 0.25 * MB, `inside, after 4 released 16 MiB outputs: ${(r.during / MB).toFixed(2)} MiB (no change)`);
  t.true(Math.abs(r.after - 16 * MB) < 0.25 * MB, `after the close: +${(r.after / MB).toFixed(2)} MiB for the one kept`);
  t.is(r.length, 4 * MB);
});

test('deferred passes that release their outputs as they go start no full collection', (t) => {
  const full = inFreshProcess(t, `
    let full = 0;
    new (require('perf_hooks').PerformanceObserver)((l) => { for (const e of l.getEntries()) if (e.detail.kind === 4) full++; }).observe({ entryTypes: ['gc'] });
    const n = 1 << 20, x = new Float32Array(n), y = new Float32Array(n);
    // As an inference frees its maps: each output released once the next exists (96 MiB a pass).
    const pass = () => { let prev = null; for (let i = 0; i < 24; i++) { const o = R.ops.binaryOp('add', x, [n], y, [n]); if (prev) native().releaseBuffer(prev.buffer); prev = o; } native().releaseBuffer(prev.buffer); };
    for (let s = 0; s < 8; s++) withDeferredExternalMemory(pass);
    print(() => full);`);
  t.true(full <= 1, `${full} full collections over 8 deferred passes of 96 MiB released as they go (before the mend: one a pass)`);
});

test('an exception closes the deferral, and the count is exact again', (t) => {
  const r = inFreshProcess(t, `
    const before = v8Count();
    let kept, message = '';
    try {
      withDeferredExternalMemory(() => { kept = output(); throw new RangeError('boom'); });
    } catch (e) {
      message = e instanceof RangeError ? e.message : String(e);
    }
    const r = { message, length: kept.length, after: v8Count() - before, depth: native().deferExternalMemory(true)[0] };
    print(() => r);`);
  t.is(r.message, 'boom');
  t.is(r.length, 4 * MB);
  t.true(Math.abs(r.after - 16 * MB) < 0.25 * MB, `after: +${(r.after / MB).toFixed(2)} MiB for a 16 MiB output`);
  t.is(r.depth, 1, 'depth 0 after the exception (1 with the probe)');
  t.throws(() => native().deferExternalMemory(1), { instanceOf: TypeError, message: /open must be a boolean/ });
});

test.serial('a training step and a detection leave no deferral open, also when they throw', (t) => {
  const model = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2 });
  const trainer = new R.Trainer(model, { iterations: 10, learningRate: 1e-3 });
  const images = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 3);
  const r = trainer.step(images, [new Float32Array([8, 8, 40, 40])], [new Int32Array([1])]);
  t.true(Number.isFinite(r.loss));
  t.is(native().deferExternalMemory(true)[0], 1, 'depth 0 after the step');
  native().deferExternalMemory(false);
  t.throws(() => trainer.step(images, [new Float32Array([8, 8, 40, 40])], [new Int32Array([7])]), { instanceOf: RangeError });
  t.is(native().deferExternalMemory(true)[0], 1, 'depth 0 after a step that threw');
  native().deferExternalMemory(false);
  // detect() defers too (an inference's maps are freed as it goes).
  t.true(Array.isArray(model.detect(images)));
  t.is(native().deferExternalMemory(true)[0], 1, 'depth 0 after a detection');
  native().deferExternalMemory(false);
  t.throws(() => model.detect(images, { imageSizes: [] }), { instanceOf: RangeError });
  t.is(native().deferExternalMemory(true)[0], 1, 'depth 0 after a detection that threw');
  native().deferExternalMemory(false);
  tf.dispose(images);
  model.dispose();
});

test('outputs that grow the way a forward pass grows make fewer full collections under a deferral', (t) => {
  const count = (mode) => inFreshProcess(t, `
    let full = 0;
    new (require('perf_hooks').PerformanceObserver)((l) => { for (const e of l.getEntries()) if (e.detail.kind === 4) full++; }).observe({ entryTypes: ['gc'] });
    const n = 1 << 20, x = new Float32Array(n), y = new Float32Array(n);
    const pass = () => { const kept = []; for (let i = 0; i < 250; i++) kept.push(R.ops.binaryOp('add', x, [n], y, [n])); };
    for (let s = 0; s < 4; s++) ${mode === 'defer' ? 'withDeferredExternalMemory(pass)' : 'pass()'};
    print(() => full);`);
  const plain = count('plain');
  const deferred = count('defer');
  t.true(plain >= 20, `${plain} full collections for 4 × 1 GB of outputs counted in full`);
  // None counted while a pass runs: the growth starts no collection.
  t.true(deferred <= 0.1 * plain, `${deferred} full collections deferred against ${plain}`);
});
