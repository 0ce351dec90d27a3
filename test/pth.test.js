'use strict';
// PyTorch checkpoints read without Python: files written by torch.save (tools/make_pth_fixtures.py,
// torch 1.13) in the zip and the legacy format, every dtype a state dict holds, strided views,
// wrappers; a pickle that would run code is refused; truncated and corrupted files are clear
// errors (fuzzed); the tiny RetinaNet loads from .pth exactly as from safetensors.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { readPth } = require('../dist/model/pth');
const { parseSafetensors } = require('../dist/model/safetensors');
const { prng } = require('../dist/util/prng');

const DIR = path.join(__dirname, 'fixtures', 'pth');
const read = (name) => fs.readFileSync(path.join(DIR, `${name}.pth`));
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8'));
const STATE_DICTS = ['zip', 'legacy', 'wrapped-model', 'wrapped-state-dict-module', 'parameters'];

test('zip and legacy files, wrappers and module. prefixes: every float tensor equals torch\'s values (float32, float16, bfloat16, float64, strided views)', (t) => {
  for (const name of STATE_DICTS) {
    const { tensors, skipped } = readPth(read(name), name);
    t.deepEqual([...tensors.keys()].sort(), Object.keys(expected).sort(), name);
    t.deepEqual(skipped, ['bn.num_batches_tracked'], `${name}: the int64 counter is listed, not loaded`);
    for (const [key, e] of Object.entries(expected)) {
      const got = tensors.get(key);
      t.deepEqual(got.shape, e.shape, `${name} ${key}`);
      // torch's .float() of each dtype is exact in float32, and so must ours be.
      t.deepEqual(Array.from(got.data), e.values.map(Math.fround), `${name} ${key}`);
    }
  }
});

test('a pickle that would run code (os.system via __reduce__) is refused, naming the global, and runs nothing', (t) => {
  const marker = path.join(os.tmpdir(), `pwned-${process.pid}`);
  t.throws(() => readPth(read('evil'), 'evil.pth'), { instanceOf: RangeError, message: /evil\.pth: .*the global (posix|os|nt)\.system is not one a state dict needs/ });
  t.false(fs.existsSync(marker));
});

test('hand-made hostile pickles: unknown opcodes, self-referencing lists, huge lengths, deep stacks are clear errors', (t) => {
  const legacyHead = Buffer.from([
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, // magic number
    0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e, // 1001
    0x80, 0x02, 0x7d, 0x58, 0x0d, 0, 0, 0, ...Buffer.from('little_endian'), 0x88, 0x73, 0x2e, // {little_endian: True}
  ]);
  const cases = [
    [Buffer.from([0x80, 0x02, 0xff]), /opcode 0xff/],
    [Buffer.concat([legacyHead, Buffer.from([0x80, 0x02, 0x5d, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2e, 0x80, 0x02, 0x5d, 0x2e])]), /the object saved is not a dict/], // l = []; l.append(l); no storages
    [Buffer.concat([legacyHead, Buffer.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f])]), /bytes needed .*truncated/], // a 2 GB string
    [Buffer.concat([legacyHead, Buffer.from([0x80, 0x02]), Buffer.alloc(20000, 0x4e)]), /stack is deeper/], // 20,000 Nones
    [Buffer.from([0x80, 0x02, 0x63, ...Buffer.from('builtins\neval\n')]), /the global builtins\.eval is not one/],
    [Buffer.from([0x80, 0x02, 0x68, 0x05]), /memo entry 5 used before it was set/],
    [Buffer.from('not a checkpoint at all'), /./],
  ];
  for (const [bytes, message] of cases) t.throws(() => readPth(new Uint8Array(bytes), 'x.pth'), { instanceOf: RangeError, message }, String(message));
  t.throws(() => readPth('x.pth'), { instanceOf: TypeError });
});

test('fuzz: every truncation and 400 random corruptions of each file give a parse or a RangeError / TypeError, nothing else', (t) => {
  const r = prng(2024);
  let errors = 0;
  let parsed = 0;
  for (const name of ['zip', 'legacy', 'wrapped-model']) {
    const good = read(name);
    const variants = [];
    for (let n = 0; n < good.length; n += Math.max(1, Math.floor(good.length / 200))) variants.push(good.subarray(0, n));
    for (let k = 0; k < 400; k++) {
      const b = Buffer.from(good);
      for (let f = 0; f < 1 + Math.floor(r() * 4); f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      variants.push(b);
    }
    for (const v of variants) {
      try {
        const { tensors } = readPth(new Uint8Array(v), name);
        for (const x of tensors.values()) t.is(x.data.length, x.shape.reduce((a, d) => a * d, 1));
        parsed++;
      } catch (e) {
        if (!(e instanceof RangeError || e instanceof TypeError)) t.fail(`${name}: ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
        errors++;
      }
    }
  }
  t.log(`${parsed} variants parsed (corrupted values), ${errors} refused with a clear error`);
  t.true(errors > 0 && parsed > 0);
});

test('loadWeights takes a .pth: the tiny RetinaNet from torch.save equals the same weights from safetensors; convert writes them as safetensors', (t) => {
  const { tensors, metadata } = parseSafetensors(fs.readFileSync(path.join(__dirname, 'fixtures', 'retinanet_r18_tiny.safetensors')));
  const spec = JSON.parse(metadata.fixture);
  const fromPth = R.createRetinaNet(spec.config);
  R.loadWeights(fromPth, path.join(DIR, 'retinanet_r18_tiny.pth'));
  for (const [name, v] of fromPth.params.vars) {
    const want = tensors.get(name);
    const mine = v.rank === 4 ? tf.transpose(v, [3, 2, 0, 1]) : v;
    t.deepEqual(Array.from(mine.dataSync()), Array.from(want.data), name);
  }
  fromPth.dispose();
  const out = path.join(os.tmpdir(), `convert-${process.pid}.safetensors`);
  t.teardown(() => fs.rmSync(out, { force: true }));
  const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'main.js'), 'convert', path.join(DIR, 'legacy.pth'), out], { encoding: 'utf8' });
  t.is(cli.status, 0, cli.stderr);
  t.regex(cli.stdout, /8 tensors .* left out 1 integer tensor\(s\) \(bn\.num_batches_tracked\)/);
  const converted = parseSafetensors(fs.readFileSync(out)).tensors;
  t.deepEqual(Array.from(converted.get('transposed').data), expected.transposed.values.map(Math.fround));
  const evil = spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'main.js'), 'convert', path.join(DIR, 'evil.pth'), out], { encoding: 'utf8' });
  t.is(evil.status, 1);
  t.regex(evil.stderr, /system is not one a state dict needs/);
});
