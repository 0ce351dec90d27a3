// Batched NMS and post-processing with tfjs's own ops: tf.image.nonMaxSuppression per class
// (it suppresses at IoU >= threshold, computed in float64: only exact ties can differ from
// ours), tf.topk per level.
import * as tf from '@tensorflow/tfjs';
import { decodeBoxesRef } from './boxes';

/** Kept indices over all classes, by score. */
export function batchedNmsRef(boxes: tf.Tensor2D, scores: tf.Tensor1D, groups: tf.Tensor1D, iou: number, maxOutput = Infinity): number[] {
  const g = groups.dataSync();
  const s = scores.dataSync();
  const byGroup = new Map<number, number[]>();
  g.forEach((c, i) => {
    const list = byGroup.get(c) ?? [];
    list.push(i);
    byGroup.set(c, list);
  });
  const kept: number[] = [];
  for (const idx of byGroup.values()) {
    tf.tidy(() => {
      const index = tf.tensor1d(idx, 'int32');
      const keep = tf.image.nonMaxSuppression(tf.gather(boxes, index) as tf.Tensor2D, tf.gather(scores, index) as tf.Tensor1D, idx.length, iou);
      for (const k of keep.dataSync()) kept.push(idx[k]);
    });
  }
  kept.sort((a, b) => s[b] - s[a] || a - b);
  return kept.slice(0, maxOutput);
}

/** One pyramid level of one image for {@link postprocessRef}: raw logits `[n, K]`, deltas `[n, 4]` and anchors `[n, 4]`. */
export interface ReferenceLevel {
  logits: tf.Tensor2D; // [n, K] of one image
  deltas: tf.Tensor2D; // [n, 4]
  anchors: tf.Tensor2D; // [n, 4]
}

/** §4.1 inference for one image: threshold, tf.topk per level, decode, clip, per-class NMS. */
export function postprocessRef(
  levels: ReferenceLevel[], size: [number, number],
  { scoreThreshold = 0.05, topK = 1000, nmsThreshold = 0.5, maxDetections = 100 } = {},
): { boxes: Float32Array; scores: Float32Array; classes: Int32Array } {
  const parts = levels.map((lv) => tf.tidy(() => {
    const k = lv.logits.shape[1];
    const scores = tf.sigmoid(lv.logits).reshape([-1]) as tf.Tensor1D;
    const n = Math.min(topK, scores.greater(scoreThreshold).sum().dataSync()[0]);
    const top = tf.topk(scores, n);
    const anchorIdx = tf.floorDiv(top.indices, k);
    const boxes = decodeBoxesRef(tf.gather(lv.anchors, anchorIdx) as tf.Tensor2D, tf.gather(lv.deltas, anchorIdx) as tf.Tensor2D, [1, 1, 1, 1], size);
    return { boxes, scores: top.values, classes: tf.mod(top.indices, k) };
  }));
  const boxes = tf.concat(parts.map((p) => p.boxes)) as tf.Tensor2D;
  const scores = tf.concat(parts.map((p) => p.scores)) as tf.Tensor1D;
  const classes = tf.concat(parts.map((p) => p.classes)) as tf.Tensor1D;
  const keep = batchedNmsRef(boxes, scores, classes, nmsThreshold, maxDetections);
  const b = boxes.dataSync(), s = scores.dataSync(), c = classes.dataSync();
  const out = {
    boxes: Float32Array.from(keep.flatMap((i) => Array.from(b.subarray(4 * i, 4 * i + 4)))),
    scores: Float32Array.from(keep.map((i) => s[i])),
    classes: Int32Array.from(keep.map((i) => c[i])),
  };
  tf.dispose([boxes, scores, classes, ...parts.flatMap((p) => [p.boxes, p.scores, p.classes])]);
  return out;
}
