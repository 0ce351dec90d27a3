'use strict';
// Independent references written plainly from the paper and torchvision's definitions, in
// float64 (or float32 step by step where exact ties matter). No native code here.

const { prng: rng } = require('../../dist/util/prng');

function randomBoxes(r, n, size = 600, minSide = 1, maxSide = 300) {
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = r.uniform(minSide, maxSide);
    const h = r.uniform(minSide, maxSide);
    const x = r.uniform(0, size - w);
    const y = r.uniform(0, size - h);
    out.set([x, y, x + w, y + h], i * 4);
  }
  return out;
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
const logSigmoid = (x) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

/**
 * Sum over non-ignored anchors and all classes of term(x, y, alpha_t) -> [loss, dloss/dx], in
 * float64, both divided by the normalizer (default: foreground anchors, at least 1).
 */
function elementwiseLossRef(logits, labels, k, alpha, normalizer, term) {
  let fg = 0;
  for (const l of labels) if (l >= 0) fg++;
  const norm = normalizer ?? Math.max(1, fg);
  let loss = 0;
  const grad = new Float64Array(logits.length);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === -2) continue;
    for (let j = 0; j < k; j++) {
      const t = labels[i] === j;
      const [l, g] = term(logits[i * k + j], t ? 1 : -1, alpha === null ? 1 : t ? alpha : 1 - alpha);
      loss += l;
      grad[i * k + j] = g / norm;
    }
  }
  return { loss: loss / norm, grad };
}

/** Paper eq. 5, gradient eq. 10, both times alpha_t. */
function focalLossRef(logits, labels, k, { alpha = 0.25, gamma = 2, normalizer } = {}) {
  return elementwiseLossRef(logits, labels, k, alpha, normalizer, (x, y, at) => {
    const pt = sigmoid(y * x);
    const logpt = logSigmoid(y * x);
    const mod = sigmoid(-y * x) ** gamma;
    return [-at * mod * logpt, at * y * mod * (gamma * pt * logpt + pt - 1)];
  });
}

/** Appendix eq. 6-8, gradient eq. 11, both times alpha_t. */
function focalLossStarRef(logits, labels, k, { alpha = 0.25, gamma = 4, beta = 0, normalizer } = {}) {
  return elementwiseLossRef(logits, labels, k, alpha, normalizer, (x, y, at) => {
    const z = gamma * y * x + beta;
    return [(-at * logSigmoid(z)) / gamma, at * y * (sigmoid(z) - 1)];
  });
}

/** IoU in float32 step by step, as torchvision's box_iou computes it. */
function iouF32(a, i, b, j) {
  const f = Math.fround;
  const areaA = f(f(a[i + 2] - a[i]) * f(a[i + 3] - a[i + 1]));
  const areaB = f(f(b[j + 2] - b[j]) * f(b[j + 3] - b[j + 1]));
  const w = Math.max(0, f(Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j])));
  const h = Math.max(0, f(Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1])));
  const inter = f(w * h);
  const union = f(f(areaA + areaB) - inter);
  return union > 0 ? f(inter / union) : 0;
}

/** IoU in float64. */
function iou64(a, i, b, j) {
  const areaA = (a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]);
  const areaB = (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]);
  const w = Math.max(0, Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]));
  const h = Math.max(0, Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]));
  const union = areaA + areaB - w * h;
  return union > 0 ? (w * h) / union : 0;
}

/** torchvision Matcher over the full IoU matrix (ties to lower index; low-quality needs IoU > 0). */
function matchRef(anchors, gt, { fgIou = 0.5, bgIou = 0.4, allowLowQuality = true } = {}) {
  const n = anchors.length / 4;
  const m = gt.length / 4;
  const matches = new Int32Array(n).fill(-1);
  const maxIou = new Float32Array(n);
  if (m === 0) return { matches, maxIou };
  const M = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => iouF32(anchors, 4 * i, gt, 4 * j)));
  const best = M.map((row) => {
    let arg = 0;
    for (let j = 1; j < m; j++) if (row[j] > row[arg]) arg = j;
    return arg;
  });
  for (let i = 0; i < n; i++) {
    const v = M[i][best[i]];
    maxIou[i] = v;
    matches[i] = v >= fgIou ? best[i] : v < bgIou ? -1 : -2;
  }
  if (allowLowQuality) {
    for (let j = 0; j < m; j++) {
      let g = 0;
      for (let i = 0; i < n; i++) g = Math.max(g, M[i][j]);
      if (g <= 0) continue;
      for (let i = 0; i < n; i++) if (M[i][j] === g) matches[i] = best[i];
    }
  }
  return { matches, maxIou };
}

/** BoxCoder.encode in float64. */
function encodeRef(anchor, box, w = [1, 1, 1, 1]) {
  const aw = anchor[2] - anchor[0], ah = anchor[3] - anchor[1];
  const ax = anchor[0] + 0.5 * aw, ay = anchor[1] + 0.5 * ah;
  const bw = box[2] - box[0], bh = box[3] - box[1];
  const bx = box[0] + 0.5 * bw, by = box[1] + 0.5 * bh;
  return [(w[0] * (bx - ax)) / aw, (w[1] * (by - ay)) / ah, w[2] * Math.log(bw / aw), w[3] * Math.log(bh / ah)];
}

/** BoxCoder.decode in float64 (dw, dh clamped at log(1000/16)). */
function decodeRef(anchor, d, w = [1, 1, 1, 1]) {
  const clamp = Math.log(1000 / 16);
  const aw = anchor[2] - anchor[0], ah = anchor[3] - anchor[1];
  const ax = anchor[0] + 0.5 * aw, ay = anchor[1] + 0.5 * ah;
  const cx = (d[0] / w[0]) * aw + ax, cy = (d[1] / w[1]) * ah + ay;
  const pw = Math.exp(Math.min(d[2] / w[2], clamp)) * aw, ph = Math.exp(Math.min(d[3] / w[3], clamp)) * ah;
  return [cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2];
}

/** Anchors as torchvision's AnchorGenerator builds them, with float32 rounding where it has it. */
function anchorsRef(height, width, { levels = [3, 4, 5, 6, 7], sizes = [32, 64, 128, 256, 512],
  scales = [1, 2 ** (1 / 3), 2 ** (2 / 3)], ratios = [0.5, 1, 2], offset = 0, round = true } = {}) {
  const f = Math.fround;
  const roundEven = (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const out = [];
  levels.forEach((l, li) => {
    const gh = Math.ceil(height / 2 ** l), gw = Math.ceil(width / 2 ** l);
    // torchvision: strides = image size // feature map size, per axis.
    const strideY = Math.floor(height / gh), strideX = Math.floor(width / gw);
    const cells = [];
    for (const r of ratios) {
      const hr = f(Math.sqrt(f(r)));
      const wr = f(1 / hr);
      for (const s of scales) {
        const size = round ? Math.trunc(sizes[li] * s) : f(sizes[li] * f(s));
        const ws = f(wr * size), hs = f(hr * size);
        const c = [-ws / 2, -hs / 2, ws / 2, hs / 2].map((v) => (round ? roundEven(f(v)) : f(v)));
        cells.push(c);
      }
    }
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        for (const c of cells) {
          const sx = (x + offset) * strideX, sy = (y + offset) * strideY;
          out.push(sx + c[0], sy + c[1], sx + c[2], sy + c[3]);
        }
      }
    }
  });
  return new Float32Array(out);
}

/** Largest |a - b| / max(|b|, floor). */
function maxRelErr(a, b, floor = 1e-6) {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return e;
}

/** Deep copy of the typed arrays in a list, to check later that nothing was modified. */
function snapshot(...arrays) {
  return arrays.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a));
}

module.exports = {
  rng, randomBoxes, sigmoid, logSigmoid, focalLossRef, focalLossStarRef, iouF32, iou64, matchRef,
  encodeRef, decodeRef, anchorsRef, maxRelErr, snapshot,
};

/** Greedy NMS written plainly: score order (ties by lower index), drop IoU > threshold. */
function nmsRef(boxes, scores, threshold, indices) {
  const order = (indices ?? Array.from({ length: scores.length }, (_, i) => i))
    .slice()
    .sort((a, b) => scores[b] - scores[a] || a - b);
  const kept = [];
  for (const i of order) {
    if (kept.every((k) => !(iouF32(boxes, 4 * i, boxes, 4 * k) > threshold))) kept.push(i);
  }
  return kept;
}

/** Per-group nmsRef, merged by score (ties by lower index). */
function batchedNmsRef(boxes, scores, groups, threshold) {
  const byGroup = new Map();
  groups.forEach((g, i) => {
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g).push(i);
  });
  const kept = [];
  for (const idx of byGroup.values()) kept.push(...nmsRef(boxes, scores, threshold, idx));
  return kept.sort((a, b) => scores[b] - scores[a] || a - b);
}

module.exports.nmsRef = nmsRef;
module.exports.batchedNmsRef = batchedNmsRef;
