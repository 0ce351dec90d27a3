'use strict';
// Head outputs that look trained (most scores far below 0.05, clusters above it near objects),
// shared by the post-processing tests on the CPU and on CUDA.
const { ops } = require('../..');

function headOutputs(r, height, width, batch, k, objects = 6) {
  const { anchors, levels } = ops.generateAnchors({ height, width });
  return levels.map((lv) => {
    const a = anchors.slice(lv.start * 4, (lv.start + lv.count) * 4);
    const logits = new Float32Array(batch * lv.count * k);
    const deltas = new Float32Array(batch * lv.count * 4);
    for (let i = 0; i < logits.length; i++) logits[i] = -7 + 2 * r();
    for (let i = 0; i < deltas.length; i++) deltas[i] = 0.3 * (r() - 0.5);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < objects; o++) {
        const c = r.int(0, k);
        const centre = r.int(0, lv.count);
        for (let j = Math.max(0, centre - 40); j < Math.min(lv.count, centre + 40); j++) {
          logits[(b * lv.count + j) * k + c] = -3 + 6 * r();
        }
      }
    }
    return { logits, deltas, anchors: a };
  });
}

module.exports = { headOutputs };
