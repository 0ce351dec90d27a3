import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg } from './kernel';

export const ENCODE_BOXES = 'RetinanetEncodeBoxes';
export const DECODE_BOXES = 'RetinanetDecodeBoxes';

registerRetinanetKernel(ENCODE_BOXES, (ctx) => {
  const anchors = ctx.input('anchors', 'float32') as Float32Array;
  const boxes = ctx.input('boxes', 'float32') as Float32Array;
  const out = ops.encodeBoxes(anchors, boxes, { weights: ctx.attrs.weights as number[] });
  return ctx.output(ctx.shape('boxes'), 'float32', out);
});

registerRetinanetKernel(DECODE_BOXES, (ctx) => {
  const anchors = ctx.input('anchors', 'float32') as Float32Array;
  const deltas = ctx.input('deltas', 'float32') as Float32Array;
  const clip = ctx.attrs.clip as number[];
  const out = ops.decodeBoxes(anchors, deltas, {
    weights: ctx.attrs.weights as number[],
    ...(clip.length ? { clip: [clip[0], clip[1]] as [number, number] } : {}),
  });
  return ctx.output(ctx.shape('deltas'), 'float32', out);
});

/** R-CNN deltas of `boxes` relative to `anchors` (both `[n, 4]`). */
export function encodeBoxes(anchors: tf.Tensor2D, boxes: tf.Tensor2D, options: { weights?: number[] } = {}): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(ENCODE_BOXES,
    { anchors: tensorArg('anchors', anchors, 'float32', 2), boxes: tensorArg('boxes', boxes, 'float32', 2) },
    { weights: options.weights ?? [1, 1, 1, 1] });
}

/** Boxes from deltas `[n, 4]` on `anchors` `[n, 4]`, clamped like torchvision, optionally clipped. */
export function decodeBoxes(
  anchors: tf.Tensor2D, deltas: tf.Tensor2D, options: { weights?: number[]; clip?: [number, number] } = {},
): tf.Tensor2D {
  return runKernel<tf.Tensor2D>(DECODE_BOXES,
    { anchors: tensorArg('anchors', anchors, 'float32', 2), deltas: tensorArg('deltas', deltas, 'float32', 2) },
    { weights: options.weights ?? [1, 1, 1, 1], clip: options.clip ?? [] });
}
