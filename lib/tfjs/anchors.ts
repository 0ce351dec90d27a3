import * as tf from '@tensorflow/tfjs';
import { AnchorLevel, AnchorOptions, anchorsOf, planAnchors } from '../ops/anchors';
import { registerRetinanetKernel, runKernel, optionsAttr, kernelOptions } from './kernel';

export const GENERATE_ANCHORS = 'RetinanetGenerateAnchors';

registerRetinanetKernel(GENERATE_ANCHORS, (ctx) => {
  const anchors = anchorsOf(planAnchors(kernelOptions<AnchorOptions>(ctx)));
  return ctx.output([anchors.length / 4, 4], 'float32', anchors);
});

/** The tensor {@link generateAnchors}'s result: the anchors as a tensor, with the typed-array op's level layout. */
export interface TensorAnchors {
  /** `[N, 4]` float32, order level, y, x, anchor. */
  anchors: tf.Tensor2D;
  levels: AnchorLevel[];
  anchorsPerLocation: number;
}

/** generateAnchors as a tensor (same options, same values as the typed-array op). */
export function generateAnchors(options: AnchorOptions): TensorAnchors {
  const { levels, anchorsPerLocation } = planAnchors(options);
  const anchors = runKernel<tf.Tensor2D>(GENERATE_ANCHORS, {}, { options: optionsAttr(options) });
  return { anchors, levels, anchorsPerLocation };
}
