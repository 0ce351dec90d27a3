'use strict';
// Early release (lib/tfjs/release.ts): on tfjs's cpu backend a native kernel's output buffer is
// freed when its last tensor is disposed, unless its values were read out; what a user holds
// (dataSync's array, a slice, a reshape, their own arrays) stays whole.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');

// The backend's own array of a tensor (tfjs internals, read without marking it as read out).
const held = (t) => tf.backend().data.get(t.dataId).values;
const input = (n, seed) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed + i * 0.37) * 3;
  return a;
};
const relu = (a) => a.map((v) => (v > 0 ? v : 0));
const equal = (t, got, want, what) => {
  t.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (Object.is(got[i], want[i])) continue;
    t.fail(`${what}: element ${i}: ${got[i]} instead of ${want[i]}`);
    return;
  }
  t.pass();
};

test.serial('a native output is freed when its tensor is disposed, without a collection', (t) => {
  t.true(R.earlyRelease());
  const n = 8 << 20; // 32 MiB
  const x = tf.tensor1d(input(n, 1));
  const y = tf.relu(x);
  const values = held(y);
  t.is(values.length, n);
  const before = process.memoryUsage().arrayBuffers;
  y.dispose();
  const after = process.memoryUsage().arrayBuffers;
  t.is(values.length, 0, 'its array is detached');
  t.true(before - after >= 4 * n, `ArrayBuffer bytes fell by ${((before - after) / 2 ** 20).toFixed(1)} MiB (32 expected)`);
  x.dispose();
});

test.serial('values read out with dataSync or data stay whole after the tensor is disposed', async (t) => {
  const a = input(1000, 2);
  const x = tf.tensor1d(a);
  const y1 = tf.relu(x), y2 = tf.relu(x);
  const v1 = y1.dataSync();
  const v2 = await y2.data();
  tf.dispose([y1, y2]);
  equal(t, v1, relu(a), 'dataSync');
  equal(t, v2, relu(a), 'data');
  x.dispose();
});

test.serial('a slice or reshape of an output keeps its buffer until the last of them is disposed', (t) => {
  const a = input(1024, 3);
  const x = tf.tensor1d(a);
  const y = tf.relu(x);
  const s = tf.slice(y, [256], [512]); // tfjs's cpu slice: a view of y's buffer
  const r = y.reshape([32, 32]);
  const sv = held(s), rv = held(r);
  t.is(sv.buffer, held(y).buffer, 'the slice shares the buffer (else this test shows nothing)');
  y.dispose();
  equal(t, sv, relu(a).subarray(256, 768), 'slice after the source was disposed');
  r.dispose();
  equal(t, sv, relu(a).subarray(256, 768), 'slice after the reshape was disposed');
  t.is(rv.length, 1024, 'the reshape shared the data, still held by the slice');
  s.dispose();
  t.is(sv.length, 0, 'freed with its last holder');
  x.dispose();
});

test.serial("the caller's arrays and tensors made from them are never freed", (t) => {
  const a = input(4096, 4);
  const keep = a.slice();
  const x = tf.tensor1d(a);
  const y = tf.relu(x);
  const z = tf.add(y, x);
  tf.dispose([x, y, z]);
  equal(t, a, keep, "the caller's array");
  const out = tf.tidy(() => tf.relu(tf.relu(tf.tensor1d(a))));
  equal(t, out.dataSync(), relu(keep), 'the result of a tidy whose intermediates were freed');
  out.dispose();
});

test.serial('a variable made from an output keeps it; the weights it replaces are freed', (t) => {
  const a = input(256, 5);
  const x = tf.tensor1d(a);
  const y = tf.relu(x);
  const v = tf.variable(y);
  const first = held(v);
  y.dispose();
  equal(t, first, relu(a), 'the variable after its initial value was disposed');
  const next = tf.relu(tf.neg(x));
  v.assign(next);
  next.dispose();
  t.is(first.length, 0, 'the replaced weights were freed');
  equal(t, v.dataSync(), relu(a.map((u) => -u)), 'the assigned weights');
  tf.dispose([x, v]);
});

test.serial('useEarlyRelease(false) leaves every buffer to the collector; bad arguments are refused', (t) => {
  R.useEarlyRelease(false);
  try {
    t.false(R.earlyRelease());
    const a = input(512, 6);
    const x = tf.tensor1d(a);
    const y = tf.relu(x);
    const values = held(y);
    y.dispose();
    equal(t, values, relu(a), 'not freed while off');
    x.dispose();
  } finally {
    R.useEarlyRelease(true);
  }
  t.true(R.earlyRelease());
  t.throws(() => R.useEarlyRelease('no'), { instanceOf: TypeError, message: /on: expected a boolean/ });
  t.true(R.earlyRelease(), 'unchanged by a refused call');
});

test.serial('detections and training steps are the same to the bit with early release on and off', (t) => {
  const run = () => {
    const model = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3 });
    const trainer = new R.Trainer(model, { iterations: 10, learningRate: 1e-3, warmupIterations: 0 });
    const images = tf.randomNormal([2, 96, 96, 3], 0, 1, 'float32', 7);
    const boxes = [new Float32Array([8, 8, 50, 60]), new Float32Array([20, 30, 90, 80, 5, 5, 40, 30])];
    const labels = [new Int32Array([1]), new Int32Array([0, 2])];
    const losses = [0, 1, 2].map(() => trainer.step(images, boxes, labels).loss);
    const first = images.slice([0, 0, 0, 0], [1, 96, 96, 3]);
    const [d] = model.detect(first, { scoreThreshold: 0 });
    const out = { losses, boxes: Array.from(d.boxes), scores: Array.from(d.scores) };
    tf.dispose([images, first]);
    model.dispose();
    return out;
  };
  const on = run();
  R.useEarlyRelease(false);
  let off;
  try {
    off = run();
  } finally {
    R.useEarlyRelease(true);
  }
  t.true(on.losses.every(Number.isFinite));
  t.true(on.scores.length > 0);
  t.deepEqual(on, off);
});
