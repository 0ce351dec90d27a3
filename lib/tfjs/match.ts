import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg, optionsAttr, kernelOptions } from './kernel';

export const MATCH_ANCHORS = 'RetinanetMatchAnchors';

registerRetinanetKernel(MATCH_ANCHORS, (ctx) => {
  const anchors = ctx.input('anchors', 'float32') as Float32Array;
  const gt = ctx.input('gtBoxes', 'float32') as Float32Array;
  const { matches, maxIou } = ops.matchAnchors(anchors, gt, kernelOptions<ops.MatchOptions>(ctx));
  return [ctx.output([matches.length], 'int32', matches), ctx.output([maxIou.length], 'float32', maxIou)];
});

/** The tensor {@link matchAnchors}'s result, one entry per anchor. */
export interface TensorMatches {
  /** `[n]` int32: ground-truth index, -1 background, -2 ignored. */
  matches: tf.Tensor1D;
  /** `[n]` float32: each anchor's best IoU. */
  maxIou: tf.Tensor1D;
}

/** Anchor matching (torchvision Matcher semantics) on tensors. */
export function matchAnchors(anchors: tf.Tensor2D, gtBoxes: tf.Tensor2D, options: ops.MatchOptions = {}): TensorMatches {
  const [matches, maxIou] = runKernel<tf.Tensor[]>(MATCH_ANCHORS,
    { anchors: tensorArg('anchors', anchors, 'float32', 2), gtBoxes: tensorArg('gtBoxes', gtBoxes, 'float32', 2) },
    { options: optionsAttr(options) });
  return { matches: matches as tf.Tensor1D, maxIou: maxIou as tf.Tensor1D };
}
