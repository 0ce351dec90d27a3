import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg, optionsAttr, kernelOptions } from './kernel';

export const RETINANET_TARGETS = 'RetinanetTargets';

registerRetinanetKernel(RETINANET_TARGETS, (ctx) => {
  const batch = ctx.attrs.batch as number;
  const anchors = ctx.input('anchors', 'float32') as Float32Array;
  const boxes = Array.from({ length: batch }, (_, b) => ctx.input(`gtBoxes${b}`, 'float32') as Float32Array);
  const labels = Array.from({ length: batch }, (_, b) => ctx.input(`gtLabels${b}`, 'int32') as Int32Array);
  const t = ops.retinanetTargetsBatch(anchors, boxes, labels, kernelOptions<ops.TargetOptions>(ctx));
  const n = anchors.length / 4;
  return [
    ctx.output([batch, n], 'int32', t.labels),
    ctx.output([batch, n, 4], 'float32', t.boxTargets),
    ctx.output([batch, n], 'int32', t.matches),
    ctx.output([batch], 'int32', new Int32Array(t.numForegroundPerImage)),
  ];
});

/** The tensor {@link retinanetTargets}'s result: per image and anchor, class and box targets and the match. */
export interface TensorTargets {
  /** `[B, n]` int32: class, -1 background, -2 ignored. */
  labels: tf.Tensor2D;
  /** `[B, n, 4]` float32: encoded boxes of foreground anchors, 0 elsewhere. */
  boxTargets: tf.Tensor3D;
  /** `[B, n]` int32. */
  matches: tf.Tensor2D;
  /** Foreground anchors over the batch. */
  numForeground: number;
  numForegroundPerImage: number[];
}

/**
 * Training targets for a batch of images sharing `anchors` `[n, 4]`; ground truth per image
 * (`gtBoxes[b]` `[m_b, 4]` float32, `gtLabels[b]` `[m_b]` int32, ragged).
 */
export function retinanetTargets(
  anchors: tf.Tensor2D, gtBoxes: tf.Tensor2D[], gtLabels: tf.Tensor1D[], options: ops.TargetOptions = {},
): TensorTargets {
  if (!Array.isArray(gtBoxes) || !Array.isArray(gtLabels)) throw new TypeError('gtBoxes, gtLabels: expected arrays of tensors, one per image');
  if (gtBoxes.length !== gtLabels.length) throw new RangeError(`gtLabels: ${gtLabels.length} images, gtBoxes has ${gtBoxes.length}`);
  const inputs: tf.NamedTensorMap = { anchors: tensorArg('anchors', anchors, 'float32', 2) };
  gtBoxes.forEach((b, i) => { inputs[`gtBoxes${i}`] = tensorArg(`gtBoxes[${i}]`, b, 'float32', 2); });
  gtLabels.forEach((l, i) => { inputs[`gtLabels${i}`] = tensorArg(`gtLabels[${i}]`, l, 'int32', 1); });
  const [labels, boxTargets, matches, fg] = runKernel<tf.Tensor[]>(RETINANET_TARGETS, inputs,
    { batch: gtBoxes.length, options: optionsAttr(options) });
  const numForegroundPerImage = Array.from(fg.dataSync());
  fg.dispose();
  return {
    labels: labels as tf.Tensor2D, boxTargets: boxTargets as tf.Tensor3D, matches: matches as tf.Tensor2D,
    numForeground: numForegroundPerImage.reduce((s, x) => s + x, 0), numForegroundPerImage,
  };
}
