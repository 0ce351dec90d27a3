'use strict';
// A batch's loss gradient is the sum of its images' gradients (the normalizer fixed; frozen batch
// norm and GroupNorm are per image): whatever mixes images up in a kernel's gradient shows here.
// tfjs 4.22's own ResizeNearestNeighborGrad did (test/resize-nearest.test.js): through the FPN the
// batch's gradient was then off by more than the gradient's own size.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');

function grads(m, images, boxes, labels) {
  const { value, grads: g } = tf.variableGrads(() => m.loss(images, boxes, labels, { normalizer: 4 }).total);
  const out = {};
  for (const k of Object.keys(g)) out[k] = g[k].dataSync().slice();
  tf.dispose([value, ...Object.values(g)]);
  return out;
}

test('the gradient of a batch of 2 equals the sum of each image\'s (retinanet-r18-small, 128 px, FPN upsampling)', (t) => {
  const m = R.createRetinaNet({ preset: 'retinanet-r18-small', numClasses: 3 });
  const images = tf.randomUniform([2, 128, 128, 3], -1, 1, 'float32', 3);
  const boxes = [new Float32Array([10, 10, 60, 70]), new Float32Array([30, 40, 100, 110])];
  const labels = [new Int32Array([1]), new Int32Array([2])];
  const both = grads(m, images, boxes, labels);
  const parts = [0, 1].map((i) => tf.tidy(() => images.slice([i], [1]))).map((x, i) => {
    const g = grads(m, x, [boxes[i]], [labels[i]]);
    x.dispose();
    return g;
  });
  let worst = 0;
  let where = '';
  for (const k of Object.keys(both)) {
    const a = both[k];
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - (parts[0][k][i] + parts[1][k][i])));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    if (diff / (scale || 1) > worst) [worst, where] = [diff / (scale || 1), k];
  }
  t.true(Object.keys(both).length > 50);
  // float32 sums in another order: measured 3e-7 of each tensor's largest entry.
  t.true(worst < 1e-4, `${where}: ${worst}`);
  images.dispose();
  m.dispose();
});
