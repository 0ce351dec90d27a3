'use strict';
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const R = require('..');

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-w-'));

test('safetensors: serialize / parse round trip, F16 and BF16 read, malformed files rejected', (t) => {
  const tensors = new Map([
    ['b', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -1e8]) }],
    ['a.weight', { shape: [1], data: Float32Array.from([42]) }],
  ]);
  const bytes = R.serializeSafetensors(tensors, { note: 'x' });
  const back = R.parseSafetensors(bytes);
  t.deepEqual([...back.tensors.keys()].sort(), ['a.weight', 'b']);
  t.deepEqual(back.tensors.get('b'), tensors.get('b'));
  t.is(back.metadata.note, 'x');
  t.is((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8, 0, 'data 8-byte aligned');
  // Hand-made F16 / BF16 file: 1.5 is 0x3E00 in F16 and 0x3FC0 in BF16.
  const header = new TextEncoder().encode(JSON.stringify({
    h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, g: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] },
  }));
  const f = new Uint8Array(8 + header.length + 4);
  new DataView(f.buffer).setBigUint64(0, BigInt(header.length), true);
  f.set(header, 8);
  new DataView(f.buffer).setUint16(8 + header.length, 0x3e00, true);
  new DataView(f.buffer).setUint16(8 + header.length + 2, 0x3fc0, true);
  const half = R.parseSafetensors(f).tensors;
  t.is(half.get('h').data[0], 1.5);
  t.is(half.get('g').data[0], 1.5);
  t.throws(() => R.parseSafetensors(bytes.subarray(0, bytes.length - 3)), { instanceOf: RangeError, message: /truncated/ });
  t.throws(() => R.parseSafetensors(bytes.subarray(0, 5)), { instanceOf: RangeError });
  const corrupt = bytes.slice();
  corrupt[9] = 0x7b; corrupt[10] = 0x7b;
  t.throws(() => R.parseSafetensors(corrupt), { instanceOf: RangeError, message: /JSON|header/ });
});

test('save -> load gives identical outputs; conv weights are stored OIHW with torchvision names', (t) => {
  const dir = tmp();
  const file = path.join(dir, 'model.safetensors');
  const a = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 1 });
  const b = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 2 });
  const x = tf.randomNormal([1, 64, 96, 3], 0, 1, 'float32', 5);
  R.saveWeights(a, file);
  const out = (m) => tf.tidy(() => tf.concat(m.forward(x).map((h) => h.logits), 1).dataSync());
  t.notDeepEqual(out(a), out(b));
  R.loadWeights(b, file);
  t.deepEqual(out(a), out(b));
  const stored = R.parseSafetensors(fs.readFileSync(file)).tensors;
  const w = a.params.get('backbone.body.conv1.weight'); // HWIO [7, 7, 3, 8]
  const s = stored.get('backbone.body.conv1.weight'); // OIHW [8, 3, 7, 7]
  t.deepEqual(s.shape, [w.shape[3], w.shape[2], w.shape[0], w.shape[1]]);
  const hwio = w.arraySync();
  t.is(s.data[((5 * 3 + 2) * 7 + 1) * 7 + 4], Math.fround(hwio[1][4][2][5]));
  t.true(stored.has('backbone.fpn.extra_blocks.p6.weight') && stored.has('head.regression_head.bbox_reg.bias'));
  tf.dispose(x);
  a.dispose();
  b.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a file that does not fit (other preset, truncated) is a clear error and leaves the model unchanged', (t) => {
  const dir = tmp();
  const file = path.join(dir, 'small.safetensors');
  const small = R.createRetinaNet({ preset: 'retinanet-r18-small', numClasses: 3 });
  const tiny = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3 });
  R.saveWeights(small, file);
  const before = tiny.params.get('backbone.body.conv1.weight').dataSync().slice();
  t.throws(() => R.loadWeights(tiny, file), { instanceOf: RangeError, message: /does not fit/ });
  t.deepEqual(tiny.params.get('backbone.body.conv1.weight').dataSync(), before);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
  t.throws(() => R.loadWeights(small, file), { instanceOf: RangeError, message: /truncated/ });
  t.deepEqual(fs.readdirSync(dir), ['small.safetensors'], 'no temporary file left behind');
  small.dispose();
  tiny.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('readWeightsFile tells safetensors from torch.save files by content: a header length whose first byte looks like a pickle (0x80) or a zip ("PK") still reads as safetensors', (t) => {
  const { serializeSafetensors } = require('../dist/model/safetensors');
  const tensors = new Map([['w', { shape: [2], data: new Float32Array([1.5, -2]) }]]);
  const file = path.join(os.tmpdir(), `weights-${process.pid}.safetensors`);
  t.teardown(() => fs.rmSync(file, { force: true }));
  const seen = new Set();
  for (let pad = 0; pad < 4000 && seen.size < 2; pad++) {
    const bytes = serializeSafetensors(tensors, { note: 'x'.repeat(pad) });
    const first = bytes[0] === 0x80 ? 'pickle' : bytes[0] === 0x50 && bytes[1] === 0x4b ? 'zip' : null;
    if (first === null || seen.has(first)) continue;
    seen.add(first);
    fs.writeFileSync(file, bytes);
    t.deepEqual(Array.from(R.readWeightsFile(file).get('w').data), [1.5, -2], first);
  }
  t.true(seen.has('pickle'), 'a header length starting with 0x80 was tried');
  t.deepEqual([...R.readWeightsFile(path.join(__dirname, 'fixtures', 'pth', 'zip.pth')).keys()].length, 8);
  t.deepEqual([...R.readWeightsFile(path.join(__dirname, 'fixtures', 'pth', 'legacy.pth')).keys()].length, 8);
});
