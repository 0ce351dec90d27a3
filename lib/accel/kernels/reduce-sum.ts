// Sum (float32) on the native kernel when the reduced axes, size-1 axes aside, are one
// contiguous run: leading (bias gradients of NHWC tensors), trailing (row sums, full sums) or in
// the middle. Bit for bit tfjs's own result (a double sum in tfjs's order, rounded once), without
// tfjs's transpose; faster at every size. Other axes and dtypes go to tfjs.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { defineNativeCpuKernel, output, values } from '../override';

defineNativeCpuKernel(tf.Sum, ({ inputs, backend, attrs }) => {
  const x = values(backend, inputs.x);
  if (!inputs.x || !x) return undefined;
  const { axis, keepDims } = attrs as unknown as { axis?: number | number[] | null; keepDims?: boolean };
  const shape = inputs.x.shape;
  let axes: number[];
  try {
    axes = tf.util.parseAxisParam(axis as number | number[], shape); // null or undefined: every axis
  } catch {
    return undefined; // tfjs's own kernel reports the bad axis
  }
  const g = ops.reduceSumGeometry(shape, axes);
  if (g === undefined) return undefined;
  const reduced = new Set(axes);
  const outShape = keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : shape.filter((_, i) => !reduced.has(i));
  return output(backend, outShape, ops.reduceSum(x, g));
});
