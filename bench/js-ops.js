'use strict';
// Straightforward JavaScript loop versions of the ops: what a user would write without the
// addon. The benchmark's baseline (not used by the library).

function focalLossJs(logits, labels, k, alpha, gamma, normalizer, grad) {
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === -2) {
      grad.fill(0, i * k, i * k + k);
      continue;
    }
    for (let j = 0; j < k; j++) {
      const x = logits[i * k + j];
      const y = label === j ? 1 : -1;
      const xt = y * x;
      const logpt = xt >= 0 ? -Math.log1p(Math.exp(-xt)) : xt - Math.log1p(Math.exp(xt));
      const pt = Math.exp(logpt);
      const q = 1 - pt;
      const at = y === 1 ? alpha : 1 - alpha;
      const mod = q ** gamma;
      loss -= at * mod * logpt;
      grad[i * k + j] = (at * y * mod * (gamma * pt * logpt + pt - 1)) / normalizer;
    }
  }
  return loss / normalizer;
}

function iou(a, i, b, j) {
  const areaA = (a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]);
  const areaB = (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]);
  const w = Math.max(0, Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]));
  const h = Math.max(0, Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]));
  const u = areaA + areaB - w * h;
  return u > 0 ? (w * h) / u : 0;
}

/** Matcher semantics: the IoU matrix, best per anchor and per box, thresholds, low-quality. */
function matchJs(anchors, gt, fgIou = 0.5, bgIou = 0.4) {
  const n = anchors.length / 4;
  const m = gt.length / 4;
  const M = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) M[i * m + j] = iou(anchors, 4 * i, gt, 4 * j);
  const matches = new Int32Array(n);
  const best = new Int32Array(n);
  const gtBest = new Float32Array(m);
  for (let i = 0; i < n; i++) {
    let arg = 0;
    for (let j = 0; j < m; j++) {
      if (M[i * m + j] > M[i * m + arg]) arg = j;
      if (M[i * m + j] > gtBest[j]) gtBest[j] = M[i * m + j];
    }
    best[i] = arg;
    const v = M[i * m + arg];
    matches[i] = v >= fgIou ? arg : v < bgIou ? -1 : -2;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) if (gtBest[j] > 0 && M[i * m + j] === gtBest[j]) matches[i] = best[i];
  }
  return matches;
}

/** Match, then labels and encoded box targets. */
function targetsJs(anchors, gt, gtLabels) {
  const matches = matchJs(anchors, gt);
  const n = matches.length;
  const labels = new Int32Array(n);
  const targets = new Float32Array(n * 4);
  let fg = 0;
  for (let i = 0; i < n; i++) {
    const j = matches[i];
    if (j < 0) {
      labels[i] = j;
      continue;
    }
    fg++;
    labels[i] = gtLabels[j];
    const aw = anchors[4 * i + 2] - anchors[4 * i], ah = anchors[4 * i + 3] - anchors[4 * i + 1];
    const bw = gt[4 * j + 2] - gt[4 * j], bh = gt[4 * j + 3] - gt[4 * j + 1];
    targets[4 * i] = (gt[4 * j] + 0.5 * bw - (anchors[4 * i] + 0.5 * aw)) / aw;
    targets[4 * i + 1] = (gt[4 * j + 1] + 0.5 * bh - (anchors[4 * i + 1] + 0.5 * ah)) / ah;
    targets[4 * i + 2] = Math.log(bw / aw);
    targets[4 * i + 3] = Math.log(bh / ah);
  }
  return { labels, targets, matches, fg };
}

function anchorsJs(height, width) {
  const sizes = [32, 64, 128, 256, 512];
  const out = [];
  for (let l = 3; l <= 7; l++) {
    const stride = 2 ** l;
    const cells = [];
    for (const r of [0.5, 1, 2]) {
      for (const s of [1, 2 ** (1 / 3), 2 ** (2 / 3)]) {
        const size = Math.trunc(sizes[l - 3] * s);
        const w = size / Math.sqrt(r), h = size * Math.sqrt(r);
        cells.push([-Math.round(w / 2), -Math.round(h / 2), Math.round(w / 2), Math.round(h / 2)]);
      }
    }
    for (let y = 0; y < Math.ceil(height / stride); y++) {
      for (let x = 0; x < Math.ceil(width / stride); x++) {
        for (const c of cells) out.push(x * stride + c[0], y * stride + c[1], x * stride + c[2], y * stride + c[3]);
      }
    }
  }
  return new Float32Array(out);
}

module.exports = { focalLossJs, matchJs, targetsJs, anchorsJs };

function iouAt(b, i, j) {
  return iou(b, 4 * i, b, 4 * j);
}

/** Greedy NMS with a kept list: sort, then test each candidate against the boxes kept so far. */
function nmsJs(boxes, scores, threshold, indices) {
  const order = indices ? Array.from(indices) : Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const kept = [];
  for (const i of order) {
    let ok = true;
    for (const k of kept) {
      if (iouAt(boxes, i, k) > threshold) {
        ok = false;
        break;
      }
    }
    if (ok) kept.push(i);
  }
  return kept;
}

/** Per-class nmsJs, merged by score. */
function batchedNmsJs(boxes, scores, groups, threshold, maxOutput = Infinity) {
  const byGroup = new Map();
  for (let i = 0; i < groups.length; i++) {
    let list = byGroup.get(groups[i]);
    if (!list) byGroup.set(groups[i], (list = []));
    list.push(i);
  }
  const kept = [];
  for (const idx of byGroup.values()) kept.push(...nmsJs(boxes, scores, threshold, idx));
  kept.sort((a, b) => scores[b] - scores[a] || a - b);
  return kept.slice(0, maxOutput);
}

/** Post-processing in plain JS: sigmoid everything, filter, sort, top k, decode, clip, NMS. */
function postprocessJs(levels, k, [h, w], { scoreThreshold = 0.05, topK = 1000, nms = 0.5, maxDet = 100 } = {}) {
  const boxes = [], scores = [], classes = [];
  const clamp = Math.log(1000 / 16);
  for (const lv of levels) {
    const cand = [];
    for (let f = 0; f < lv.logits.length; f++) {
      const s = 1 / (1 + Math.exp(-lv.logits[f]));
      if (s > scoreThreshold) cand.push([s, f]);
    }
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [s, f] of cand.slice(0, topK)) {
      const a = Math.floor(f / k);
      const an = lv.anchors, d = lv.deltas;
      const aw = an[4 * a + 2] - an[4 * a], ah = an[4 * a + 3] - an[4 * a + 1];
      const cx = d[4 * a] * aw + an[4 * a] + 0.5 * aw, cy = d[4 * a + 1] * ah + an[4 * a + 1] + 0.5 * ah;
      const pw = Math.exp(Math.min(d[4 * a + 2], clamp)) * aw, ph = Math.exp(Math.min(d[4 * a + 3], clamp)) * ah;
      const c = (v, hi) => Math.min(Math.max(v, 0), hi);
      boxes.push(c(cx - pw / 2, w), c(cy - ph / 2, h), c(cx + pw / 2, w), c(cy + ph / 2, h));
      scores.push(s);
      classes.push(f % k);
    }
  }
  return batchedNmsJs(new Float32Array(boxes), new Float32Array(scores), new Int32Array(classes), nms, maxDet);
}

module.exports.nmsJs = nmsJs;
module.exports.batchedNmsJs = batchedNmsJs;
module.exports.postprocessJs = postprocessJs;
