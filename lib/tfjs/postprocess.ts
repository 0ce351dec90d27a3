import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg, optionsAttr, kernelOptions } from './kernel';

export const POSTPROCESS = 'RetinanetPostprocess';

registerRetinanetKernel(POSTPROCESS, (ctx) => {
  const numLevels = ctx.attrs.levels as number;
  const sizes = ctx.attrs.imageSizes as number[];
  const shape = ctx.shape('logits0');
  const k = shape[2];
  const levels = Array.from({ length: numLevels }, (_, l) => ({
    logits: ctx.input(`logits${l}`, 'float32') as Float32Array,
    deltas: ctx.input(`deltas${l}`, 'float32') as Float32Array,
    anchors: ctx.input(`anchors${l}`, 'float32') as Float32Array,
  }));
  const imageSizes = Array.from({ length: sizes.length / 2 }, (_, i) => [sizes[2 * i], sizes[2 * i + 1]] as [number, number]);
  const dets = ops.postprocess(levels, k, imageSizes, kernelOptions<ops.PostprocessOptions>(ctx));
  return dets.flatMap((d) => [
    ctx.output([d.scores.length, 4], 'float32', d.boxes),
    ctx.output([d.scores.length], 'float32', d.scores),
    ctx.output([d.scores.length], 'int32', d.classes),
  ]);
});

/** One pyramid level's input to the tensor {@link postprocess}: the heads' raw outputs for the batch and the level's anchors. */
export interface TensorLevelOutput {
  /** `[B, H·W·A, K]` raw class logits. */
  logits: tf.Tensor3D;
  /** `[B, H·W·A, 4]` raw box deltas. */
  deltas: tf.Tensor3D;
  /** `[H·W·A, 4]` the level's anchors. */
  anchors: tf.Tensor2D;
}

/** One image's detections from the tensor {@link postprocess}: boxes `[d, 4]` x1, y1, x2, y2 float32, scores `[d]` float32 (descending), classes `[d]` int32. */
export interface TensorDetections {
  boxes: tf.Tensor2D;
  scores: tf.Tensor1D;
  classes: tf.Tensor1D;
}

/** The paper's inference post-processing on tensors (see ops.postprocess). */
export function postprocess(
  levels: TensorLevelOutput[], imageSizes: [number, number][], options: ops.PostprocessOptions = {},
): TensorDetections[] {
  if (!Array.isArray(levels) || levels.length === 0) throw new TypeError('levels: expected a non-empty array of { logits, deltas, anchors }');
  if (!Array.isArray(imageSizes)) throw new TypeError('imageSizes: expected an array of [height, width]');
  const inputs: tf.NamedTensorMap = {};
  levels.forEach((lv, l) => {
    inputs[`logits${l}`] = tensorArg(`levels[${l}].logits`, lv.logits, 'float32', 3);
    inputs[`deltas${l}`] = tensorArg(`levels[${l}].deltas`, lv.deltas, 'float32', 3);
    inputs[`anchors${l}`] = tensorArg(`levels[${l}].anchors`, lv.anchors, 'float32', 2);
  });
  if (imageSizes.length === 0) return [];
  const out = runKernel<tf.Tensor[]>(POSTPROCESS, inputs,
    { levels: levels.length, imageSizes: imageSizes.flat(), options: optionsAttr(options) });
  const dets: TensorDetections[] = [];
  for (let i = 0; i < out.length; i += 3) {
    dets.push({ boxes: out[i] as tf.Tensor2D, scores: out[i + 1] as tf.Tensor1D, classes: out[i + 2] as tf.Tensor1D });
  }
  return dets;
}
