const tf = require('@tensorflow/tfjs');
const R = require('..');
R.ops.retainFreedMemory();
tf.env().set('PROD', true);
const size = 600, batch = 2;
const model = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 80 });
const trainer = new R.Trainer(model, { iterations: 1e6, learningRate: 1e-4 });
const images = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2);
const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 2);
const s = size;
const boxes = Array.from({ length: batch }, () => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
const labels = Array.from({ length: batch }, () => new Int32Array([0, 1]));
function m(name, fn) {
  const u0 = process.resourceUsage(); const t0 = Date.now();
  fn();
  const u1 = process.resourceUsage();
  console.log(name, Date.now() - t0, 'ms', 'minflt', u1.minorPageFault - u0.minorPageFault, 'user', (u1.userCPUTime - u0.userCPUTime) / 1e3, 'sys', (u1.systemCPUTime - u0.systemCPUTime) / 1e3);
}
for (let i = 0; i < 3; i++) m('infer', () => { const d = model.detect(image); });
for (let i = 0; i < 5; i++) m('train', () => trainer.step(images, boxes, labels));
console.log('maxRSS MiB', (process.resourceUsage().maxRSS/1024).toFixed(0));
