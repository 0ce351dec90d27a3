import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { registerRetinanetKernel, runKernel, tensorArg, optionsAttr, kernelOptions } from './kernel';

export const BATCHED_NMS = 'RetinanetBatchedNms';

registerRetinanetKernel(BATCHED_NMS, (ctx) => {
  const boxes = ctx.input('boxes', 'float32') as Float32Array;
  const scores = ctx.input('scores', 'float32') as Float32Array;
  const options = kernelOptions<ops.NmsOptions>(ctx);
  const iou = ctx.attrs.iouThreshold as number;
  const keep = ctx.attrs.grouped
    ? ops.batchedNms(boxes, scores, ctx.input('groupIds', 'int32') as Int32Array, iou, options)
    : ops.nms(boxes, scores, iou, options);
  return ctx.output([keep.length], 'int32', keep);
});

/** Greedy NMS on tensors: kept indices (int32) by score. */
export function nms(boxes: tf.Tensor2D, scores: tf.Tensor1D, iouThreshold: number, options: ops.NmsOptions = {}): tf.Tensor1D {
  return runKernel<tf.Tensor1D>(BATCHED_NMS,
    { boxes: tensorArg('boxes', boxes, 'float32', 2), scores: tensorArg('scores', scores, 'float32', 1) },
    { iouThreshold, grouped: false, options: optionsAttr(options) });
}

/** NMS within groups on tensors: kept indices (int32) by score. */
export function batchedNms(
  boxes: tf.Tensor2D, scores: tf.Tensor1D, groupIds: tf.Tensor1D, iouThreshold: number, options: ops.NmsOptions = {},
): tf.Tensor1D {
  return runKernel<tf.Tensor1D>(BATCHED_NMS,
    {
      boxes: tensorArg('boxes', boxes, 'float32', 2), scores: tensorArg('scores', scores, 'float32', 1),
      groupIds: tensorArg('groupIds', groupIds, 'int32', 1),
    },
    { iouThreshold, grouped: true, options: optionsAttr(options) });
}
