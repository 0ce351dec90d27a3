#!/usr/bin/env node
'use strict';
// Development check (not part of npm test, which needs no Python): runs our ops on shared
// inputs, writes them to a temp folder, and has tools/torchvision_check.py compare them with
// torchvision's AnchorGenerator, Matcher, BoxCoder and sigmoid_focal_loss.
//   npm run check:torchvision   (needs python3 with torch + torchvision, e.g. Debian's python3-torchvision)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const ops = require('../dist/ops');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-tv-'));
const write = (name, arr) => fs.writeFileSync(path.join(dir, name), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
let seed = 5;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

const H = 640, W = 896, K = 80, m = 15;
const { anchors } = ops.generateAnchors({ height: H, width: W });
const gt = new Float32Array(m * 4);
for (let i = 0; i < m; i++) {
  const w = 8 + random() * 300, h = 8 + random() * 300, x = random() * (W - w), y = random() * (H - h);
  gt.set([x, y, x + w, y + h], i * 4);
}
gt.set(gt.subarray(0, 4), 12); // a duplicate box: ties between ground truth
gt.set([64, 64, 96, 96], 16); // an anchor-aligned box: ties between anchors
const gtLabels = new Int32Array(m).map((_, i) => (i * 7) % K);
const { matches } = ops.matchAnchors(anchors, gt);
const targets = ops.retinanetTargets(anchors, gt, gtLabels);
const n = anchors.length / 4;
const logits = new Float32Array(n * K).map(() => (random() - 0.5) * 12 - 2);
const fl = ops.sigmoidFocalLoss(logits, targets.labels, K, { normalizer: 1 });
const deltas = new Float32Array(n * 4).map(() => (random() - 0.5) * 3);
const decoded = ops.decodeBoxes(anchors, deltas, { clip: [H, W] });

write('anchors.bin', anchors);
write('gt.bin', gt);
write('matches.bin', matches);
write('targets.bin', targets.boxTargets);
write('labels.bin', targets.labels);
write('logits.bin', logits);
write('grad.bin', fl.grad);
write('deltas.bin', deltas);
write('decoded.bin', decoded);
fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ H, W, K, loss: fl.loss }));

const python = process.env.PYTHON || (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const py = spawnSync(python, [path.join(__dirname, 'torchvision_check.py'), dir], { stdio: 'inherit' });
let failed = py.status !== 0;

// The whole model: torchvision's retinanet_resnet50_fpn with random weights, converted by
// tools/convert-torchvision.py, loaded here; head outputs compared on the same input.
const model = spawnSync(python, [path.join(__dirname, 'torchvision_model_check.py'), dir], { stdio: 'inherit' });
if (model.status === 0) {
  const tf = require('@tensorflow/tfjs');
  const R = require('..');
  const read = (f) => new Float32Array(fs.readFileSync(path.join(dir, f)).buffer.slice(0));
  const m = R.createRetinaNet({ preset: 'retinanet-r50-fpn', numClasses: 91, p6FromP5: true });
  R.loadWeights(m, path.join(dir, 'model.safetensors'));
  const heads = m.forward(tf.tensor4d(read('x.bin'), [1, 128, 160, 3]));
  for (const [what, ours, file] of [['cls_logits', heads.map((h) => h.logits), 'cls.bin'], ['bbox_regression', heads.map((h) => h.deltas), 'box.bin']]) {
    const a = tf.concat(ours, 1).dataSync();
    const b = read(file);
    let diff = a.length === b.length ? 0 : Infinity, scale = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    const ok = diff <= 1e-4 * Math.max(1, scale);
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} retinanet_resnet50_fpn ${what} (converted weights): max |diff| ${diff.toExponential(2)} at scale ${scale.toFixed(2)}`);
  }
} else {
  failed = true;
}
fs.rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
