// Matching and targets as a tfjs user writes them: the full IoU matrix, argMax, thresholds.
import * as tf from '@tensorflow/tfjs';
import { boxIouRef, encodeBoxesRef } from './boxes';

/** Matching thresholds of {@link matchAnchorsRef} (defaults fgIou 0.5, bgIou 0.4, allowLowQuality true). */
export interface ReferenceMatchOptions {
  fgIou?: number;
  bgIou?: number;
  allowLowQuality?: boolean;
}

/** torchvision Matcher over the [n, m] IoU matrix. */
export function matchAnchorsRef(
  anchors: tf.Tensor2D, gt: tf.Tensor2D, { fgIou = 0.5, bgIou = 0.4, allowLowQuality = true }: ReferenceMatchOptions = {},
): { matches: tf.Tensor1D; maxIou: tf.Tensor1D } {
  return tf.tidy(() => {
    const n = anchors.shape[0];
    if (gt.shape[0] === 0) return { matches: tf.fill([n], -1, 'int32') as tf.Tensor1D, maxIou: tf.zeros([n]) as tf.Tensor1D };
    const iou = boxIouRef(anchors, gt);
    const maxIou = iou.max(1);
    const best = iou.argMax(1);
    let matches = tf.where(maxIou.greaterEqual(fgIou), best,
      tf.where(maxIou.less(bgIou), tf.fill([n], -1, 'int32'), tf.fill([n], -2, 'int32')));
    if (allowLowQuality) {
      const gtBest = iou.max(0).reshape([1, -1]);
      const tied = tf.logicalAnd(iou.equal(gtBest), gtBest.greater(0)).any(1);
      matches = tf.where(tied, best, matches);
    }
    return { matches: matches as tf.Tensor1D, maxIou: maxIou as tf.Tensor1D };
  });
}

/** Match, gather labels and encode the matched boxes. */
export function retinanetTargetsRef(
  anchors: tf.Tensor2D, gt: tf.Tensor2D, gtLabels: tf.Tensor1D, options: ReferenceMatchOptions = {},
): { labels: tf.Tensor1D; boxTargets: tf.Tensor2D; numForeground: number } {
  const out = tf.tidy(() => {
    const { matches } = matchAnchorsRef(anchors, gt, options);
    const fg = matches.greaterEqual(0);
    if (gt.shape[0] === 0) return { labels: matches, boxTargets: tf.zerosLike(anchors), fg: tf.scalar(0) };
    const idx = tf.maximum(matches, tf.scalar(0, 'int32'));
    const labels = tf.where(fg, tf.gather(gtLabels, idx), matches);
    const enc = encodeBoxesRef(anchors, tf.gather(gt, idx) as tf.Tensor2D);
    const boxTargets = tf.where(fg.expandDims(1).tile([1, 4]), enc, tf.zerosLike(enc));
    return { labels, boxTargets, fg: fg.sum() };
  });
  const numForeground = out.fg.dataSync()[0];
  out.fg.dispose();
  return { labels: out.labels as tf.Tensor1D, boxTargets: out.boxTargets as tf.Tensor2D, numForeground };
}
