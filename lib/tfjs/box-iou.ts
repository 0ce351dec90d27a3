import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg } from './kernel';

export const BOX_IOU = 'RetinanetBoxIou';

registerRetinanetKernel(BOX_IOU, (ctx) => {
  const a = ctx.input('a', 'float32') as Float32Array;
  const b = ctx.input('b', 'float32') as Float32Array;
  return ctx.output([a.length / 4, b.length / 4], 'float32', ops.boxIou(a, b));
});

/** IoU matrix `[na, nb]` of boxes `a` `[na, 4]` and `b` `[nb, 4]`. */
export function boxIou(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(BOX_IOU, { a: tensorArg('a', a, 'float32', 2), b: tensorArg('b', b, 'float32', 2) });
}
