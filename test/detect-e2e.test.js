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
