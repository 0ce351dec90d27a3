const tf = require('@tensorflow/tfjs');
const R = require('..');
R.ops.retainFreedMemory();
tf.env().set('PROD', true);
const size = 600;
const model = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 80 });
const trainer = new R.Trainer(model, { iterations: 1e6, learningRate: 1e-5 });
const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 1);
const batch2 = tf.concat([image, image]);
const s = size;
const boxes = [0, 1].map(() => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
const labels = [0, 1].map(() => new Int32Array([0, 1]));
for (let i = 0; i < 2; i++) trainer.step(batch2, boxes, labels);
const { Session } = require('inspector');
const ses = new Session(); ses.connect();
ses.post('Profiler.enable', () => ses.post('Profiler.start', () => {
  const t0 = Date.now();
  for (let i = 0; i < 2; i++) trainer.step(batch2, boxes, labels);
  console.log('2 steps', Date.now() - t0, 'ms');
  ses.post('Profiler.stop', (err, { profile }) => {
    // self time per function (main thread)
    const self = new Map(); const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas; const total = dt.reduce((a, b) => a + b, 0) / 1000;
    const counts = new Map();
    profile.samples.forEach((id, i) => counts.set(id, (counts.get(id) || 0) + dt[i] / 1000));
    for (const [id, ms] of counts) { const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) || 0) + ms); }
    console.log('total sampled', total.toFixed(0));
    for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(ms.toFixed(0).padStart(6), k);
  });
}));
