'use strict';
// Starting from pretrained weights: an ImageNet-style backbone state dict (torchvision's names,
// no 'backbone.body.' prefix, an fc layer) loads into the body only; a detector trained on other
// data with another class count starts a run that learns faster than one from scratch.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const R = require('..');
const { serializeSafetensors } = require('../dist/model/safetensors');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-finetune-'));
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));
const MAIN = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('loadBackboneWeights: a classifier\'s state dict (conv1 … layer4, fc) fills the body; FPN and heads keep the paper\'s init; a missing layer is refused', (t) => {
  const donor = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 2, seed: 11 });
  const classifier = new Map();
  for (const [name, a] of R.exportWeights(donor)) if (name.startsWith('backbone.body.')) classifier.set(name.slice('backbone.body.'.length), a);
  classifier.set('fc.weight', { shape: [10, 64], data: new Float32Array(640) });
  const file = path.join(root, 'imagenet.safetensors');
  fs.writeFileSync(file, serializeSafetensors(classifier));
  const model = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 12 });
  const fresh = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 12 });
  R.loadBackboneWeights(model, file);
  for (const [name, v] of model.params.vars) {
    const want = name.startsWith('backbone.body.') ? donor.params.vars.get(name) : fresh.params.vars.get(name);
    t.deepEqual(Array.from(v.dataSync()), Array.from(want.dataSync()), name);
  }
  classifier.delete('layer4.1.conv2.weight');
  fs.writeFileSync(file, serializeSafetensors(classifier));
  t.throws(() => R.loadBackboneWeights(fresh, file), { instanceOf: RangeError, message: /missing backbone\.body\.layer4\.1\.conv2\.weight/ });
  [donor, model, fresh].forEach((m) => m.dispose());
});

test('train --init-from a detector with another class count learns faster than from scratch (class output at the prior, conv1 and layer1 frozen)', (t) => {
  const a = path.join(root, 'shapes2');
  const b = path.join(root, 'shapes3');
  const shape = ['--size', '96', '--min-object', '20', '--max-object', '60', '--objects', '3'];
  t.is(cli('make-dataset', '--out', a, '--images', '24', '--classes', '2', '--seed', '1', ...shape).code, 0);
  t.is(cli('make-dataset', '--out', b, '--images', '24', '--classes', '3', '--seed', '2', ...shape).code, 0);
  const common = ['--preset', 'retinanet-r18-tiny', '--min-size', '96', '--max-size', '96', '--batch', '4', '--quiet'];
  let r = cli('train', '--data', a, '--out', path.join(root, 'pre'), '--iterations', '300', ...common);
  t.is(r.code, 0, r.err);
  const pre = path.join(root, 'pre', 'checkpoint.safetensors');
  const runs = {};
  for (const [name, extra] of [['scratch', []], ['fine-tuned', ['--init-from', pre]]]) {
    r = cli('train', '--data', b, '--out', path.join(root, name), '--iterations', '60', ...extra, ...common.filter((f) => f !== '--quiet'));
    t.true(r.code === 0 || /collapsed/.test(r.err), r.err);
    const rows = fs.readFileSync(path.join(root, name, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    runs[name] = { last: rows.slice(-20).reduce((s, c) => s + Number(c[2]), 0) / 20, err: r.err };
  }
  t.regex(runs['fine-tuned'].err, /another class count, so the class output starts at the prior/);
  t.log(`mean loss of the last 20 of 60 iterations: scratch ${runs.scratch.last.toFixed(3)}, fine-tuned ${runs['fine-tuned'].last.toFixed(3)}`);
  t.true(runs['fine-tuned'].last < 0.8 * runs.scratch.last);
  // The fine-tuned run kept conv1 and layer1 as they were pretrained (torchvision's trainable_backbone_layers=3).
  const { loadCheckpoint } = require('../dist/model/checkpoint');
  const before = loadCheckpoint(pre).model;
  const after = loadCheckpoint(path.join(root, 'fine-tuned', 'checkpoint.safetensors')).model;
  for (const name of ['backbone.body.conv1.weight', 'backbone.body.layer1.0.conv1.weight']) {
    t.deepEqual(Array.from(after.params.vars.get(name).dataSync()), Array.from(before.params.vars.get(name).dataSync()), name);
  }
  t.notDeepEqual(Array.from(after.params.vars.get('backbone.body.layer4.0.conv1.weight').dataSync()), Array.from(before.params.vars.get('backbone.body.layer4.0.conv1.weight').dataSync()));
  before.dispose();
  after.dispose();
});
