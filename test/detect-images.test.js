'use strict';
// One call from images to detections: file paths, encoded bytes (PNG, one-component JPEG) and
// decoded pixels give the same detections, in the source image's pixels, with names and ids.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { encodeGrayJpeg } = require('./helpers/gray-jpeg');
const { prng } = require('../dist/util/prng');

function picture(width, height, seed) {
  const r = prng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, data };
}

test('a path, its bytes and its pixels give the same detections, best first, inside the source image, at most 300 (torchvision\'s)', (t) => {
  const model = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 4 });
  const image = picture(300, 200, 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detect-images-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a.png');
  R.writePng(file, image);
  const o = { minSize: 160, maxSize: 256, scoreThreshold: 0 };
  const [fromPath, fromBytes, fromPixels] = R.detectImages(model, [file, fs.readFileSync(file), image], o);
  t.deepEqual(fromPath, fromPixels);
  t.deepEqual(fromBytes, fromPixels);
  t.is(fromPixels.length, 300, 'an untrained model at threshold 0: capped at 300');
  for (let i = 0; i < fromPixels.length; i++) {
    const d = fromPixels[i];
    const [x1, y1, x2, y2] = d.box;
    t.true(x1 >= 0 && y1 >= 0 && x2 <= 300 + 1e-3 && y2 <= 200 + 1e-3 && x1 <= x2 && y1 <= y2, JSON.stringify(d));
    if (i > 0) t.true(d.score <= fromPixels[i - 1].score);
    t.is(d.name, `class ${d.label}`);
    t.is(d.categoryId, d.label + 1);
  }
  // The same as the model on the batch it would make by hand, boxes scaled back to the source.
  const b = R.makeBatch([{ image }], { minSize: 160, maxSize: 256 });
  const x = tf.tensor4d(b.images, b.shape);
  const [manual] = model.detect(x, { scoreThreshold: 0, maxDetections: 300, imageSizes: b.sizes });
  x.dispose();
  const sx = 300 / b.sizes[0][1];
  const sy = 200 / b.sizes[0][0];
  t.is(manual.scores.length, 300);
  for (let i = 0; i < 300; i += 37) {
    const box = manual.boxes.subarray(4 * i, 4 * i + 4);
    t.deepEqual(fromPixels[i].box, [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy].map(Math.fround));
  }
  model.dispose();
});

test('a one-component (gray) JPEG of another size; names and category ids given, or COCO\'s for a 91-class model; bad input refused', (t) => {
  const gray = new Uint8Array(250 * 170).map((_, i) => (i * 7) % 251);
  const jpeg = encodeGrayJpeg(gray, 250, 170, 90);
  const model = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 3, seed: 5 });
  const [dets] = R.detectImages(model, [jpeg], { minSize: 128, maxSize: 200, scoreThreshold: 0, maxDetections: 20, classNames: ['ring', 'star', 'disc'], categoryIds: [3, 7, 11] });
  t.is(dets.length, 20);
  for (const d of dets) {
    t.is(d.name, ['ring', 'star', 'disc'][d.label]);
    t.is(d.categoryId, [3, 7, 11][d.label]);
    t.true(d.box[2] <= 250 + 1e-3 && d.box[3] <= 170 + 1e-3);
  }
  t.throws(() => R.detectImages(model, [42]), { instanceOf: TypeError, message: /images\[0\]/ });
  t.throws(() => R.detectImages(model, 'a.png'), { instanceOf: TypeError, message: /images/ });
  t.throws(() => R.detectImages(model, [jpeg], { classNames: ['a'] }), { instanceOf: RangeError, message: /classNames/ });
  t.throws(() => R.detectImages({}, [jpeg]), { instanceOf: TypeError, message: /RetinaNet/ });
  model.dispose();
  const coco = R.createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 91, seed: 6 });
  const [c] = R.detectImages(coco, [jpeg], { minSize: 128, maxSize: 200, scoreThreshold: 0, maxDetections: 50 });
  for (const d of c) {
    t.is(d.categoryId, d.label, 'torchvision\'s COCO labels are the category ids');
    t.is(d.name, R.COCO_CATEGORY_NAMES[d.label]);
  }
  t.is(R.COCO_CATEGORY_NAMES[1], 'person');
  t.is(R.COCO_CATEGORY_NAMES[90], 'toothbrush');
  coco.dispose();
});
