'use strict';
// End to end against torchvision without Python: tiny torchvision RetinaNets (v1-style: P6 from
// P5, frozen-BN eps 0; v2-style: GroupNorm heads, P6 from C5), saved by torch.save (zip and
// legacy formats, wrapped in {model: …}), loaded from .pth, detecting on a PNG through the
// one-call API, against torchvision's model.eval()([image]) (tools/make_detect_fixture.py).
const test = require('ava');
const fs = require('fs');
const path = require('path');
const R = require('..');

const DIR = path.join(__dirname, 'fixtures', 'detect');
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8'));

for (const version of ['v1', 'v2']) {
  test(`${version}: detectImages on a PNG equals torchvision's model.eval() detections (count, labels, boxes within 0.5 px, scores within 1e-4)`, (t) => {
    const want = expected.versions[version];
    const model = R.createRetinaNet(want.config);
    R.loadWeights(model, path.join(DIR, `${version}.pth`));
    const [dets] = R.detectImages(model, [path.join(DIR, 'image.png')], { minSize: expected.minSize, maxSize: expected.maxSize, categoryIds: [0, 1, 2] });
    model.dispose();
    t.is(dets.length, want.scores.length);
    // torchvision's labels index the same classes (its 0 is a class here: num_classes = 3).
    let boxErr = 0;
    let scoreErr = 0;
    let labelMismatch = 0;
    for (let i = 0; i < dets.length; i++) {
      const d = dets[i];
      scoreErr = Math.max(scoreErr, Math.abs(d.score - want.scores[i]));
      for (let k = 0; k < 4; k++) boxErr = Math.max(boxErr, Math.abs(d.box[k] - want.boxes[i][k]));
      if (d.label !== want.labels[i]) labelMismatch++;
    }
    t.log(`${dets.length} detections; max |box diff| ${boxErr.toExponential(2)} px, max |score diff| ${scoreErr.toExponential(2)}, labels differing ${labelMismatch}`);
    t.is(labelMismatch, 0);
    t.true(boxErr <= 0.5, `boxes within 0.5 px: ${boxErr}`);
    t.true(scoreErr <= 1e-4, `scores within 1e-4: ${scoreErr}`);
  });
}

test('v1: the fixture sees frozen BN\'s eps (running variances ~1e-5): with 1e-5 instead of torchvision\'s 0 the scores move by > 1e-3', (t) => {
  const want = expected.versions.v1;
  t.is(want.config.frozenBnEps, 0);
  const model = R.createRetinaNet({ ...want.config, frozenBnEps: 1e-5 });
  R.loadWeights(model, path.join(DIR, 'v1.pth'));
  const [dets] = R.detectImages(model, [path.join(DIR, 'image.png')], { minSize: expected.minSize, maxSize: expected.maxSize });
  model.dispose();
  let scoreErr = 0;
  for (let i = 0; i < Math.min(dets.length, want.scores.length); i++) scoreErr = Math.max(scoreErr, Math.abs(dets[i].score - want.scores[i]));
  t.true(scoreErr > 1e-3, `max |score diff| ${scoreErr}`);
});

test('v1: a training step on the fixture image equals torchvision\'s: both loss terms and the gradients of conv, FPN and head parameters', (t) => {
  const tf = require('@tensorflow/tfjs');
  const step = JSON.parse(fs.readFileSync(path.join(DIR, 'train-step.json'), 'utf8'));
  const model = R.createRetinaNet(expected.versions.v1.config);
  R.loadWeights(model, path.join(DIR, 'v1.pth'));
  const b = R.makeBatch([{ image: R.readImage(path.join(DIR, 'image.png')), boxes: Float32Array.from(step.boxes.flat()), labels: Int32Array.from(step.labels) }],
    { minSize: expected.minSize, maxSize: expected.maxSize });
  const x = tf.tensor4d(b.images, b.shape);
  const terms = {};
  const { grads } = tf.variableGrads(() => {
    const l = model.loss(x, b.boxes, b.labels);
    terms.classification = l.classification.dataSync()[0];
    terms.box = l.box.dataSync()[0];
    return l.total;
  });
  const rel = (a, want) => Math.abs(a - want) / Math.max(1e-12, Math.abs(want));
  t.log(`classification ${terms.classification} vs ${step.classification}; box ${terms.box} vs ${step.box}`);
  t.true(rel(terms.classification, step.classification) < 1e-5);
  t.true(rel(terms.box, step.box) < 1e-5);
  let worst = 0;
  for (const [name, want] of Object.entries(step.grads)) {
    const v = model.params.vars.get(name);
    const g = grads[v.name];
    const mine = (v.rank === 4 ? tf.transpose(g, [3, 2, 0, 1]) : g).dataSync();
    t.is(mine.length, want.values.length, name);
    const scale = Math.max(...want.values.map(Math.abs));
    let err = 0;
    for (let i = 0; i < mine.length; i++) err = Math.max(err, Math.abs(mine[i] - want.values[i]));
    worst = Math.max(worst, err / scale);
    t.true(err <= 1e-4 * scale, `${name}: max |diff| ${err} at a gradient scale of ${scale}`);
  }
  t.log(`${Object.keys(step.grads).length} parameters' gradients: worst max |diff| / max |grad| ${worst.toExponential(2)}`);
  tf.dispose([x, grads]);
  model.dispose();
});
