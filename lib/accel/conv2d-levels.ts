// One filter on several inputs in one kernel: a detection head's convolution on every pyramid
// level (P3-P7 share the head's weights). On the cpu backend the 3x3 ones are one Winograd
// filter transform and one set of products over all the levels' tiles, where level by level each
// call transformed the filter again and the small levels' products were too small to run fast.
// Inference only: under a gradient tape it is conv2dBiasAct per input, as it is where the native
// kernels are off.
import * as tf from '@tensorflow/tfjs';
import * as ops from './ops';
import { registerRetinanetKernel, runKernel } from '../tfjs/kernel';
import { ConvAttrs, forwardPrecision, inTraining, nativeGeometry, outShape } from './kernels/conv-info';
import { checkConvArgs, conv2dBiasAct, ConvPadding, nativeAccelKernel } from './conv2d-bias-act';

export const CONV2D_LEVELS = 'RetinanetConv2DLevels';

const inputName = (i: number): string => `x${i}`;

// Inputs { x0 … x(levels-1), filter, bias? }, attrs { levels, strides, pad, activation } → one
// output per input.
registerRetinanetKernel(CONV2D_LEVELS, (ctx) => {
  const a = ctx.attrs as unknown as ConvAttrs & { levels: number; activation: 'linear' | 'relu' };
  const names = Array.from({ length: a.levels }, (_, i) => inputName(i));
  const gs = names.map((n) => nativeGeometry(ctx.shape(n), ctx.shape('filter'), a));
  if (gs.some((g) => g === undefined)) throw new RangeError('conv2dLevels: only NHWC, dilation 1 is covered');
  const geometries = gs as ops.Conv2DGeometry[];
  const bias = ctx.has('bias') ? (ctx.input('bias', 'float32') as Float32Array) : undefined;
  const ys = ops.conv2dLevels(names.map((n) => ctx.input(n, 'float32') as Float32Array), ctx.input('filter', 'float32') as Float32Array,
    geometries, { bias, activation: a.activation }, forwardPrecision());
  return ys.map((y, i) => ctx.output(outShape(geometries[i]), 'float32', y, true));
});

/** The arguments of {@link conv2dLevels}. Defaults: strides 1, activation 'linear'. */
export interface Conv2dLevelsArgs {
  /** NHWC float32 inputs [B, H, W, Cin], the same Cin; batch and spatial sizes may differ. */
  xs: tf.Tensor4D[];
  /** HWIO float32 filter [fh, fw, Cin, Cout], shared by all inputs. */
  filter: tf.Tensor4D;
  /** Per output channel [Cout]; none: no bias. */
  bias?: tf.Tensor1D;
  strides?: number | [number, number];
  pad: ConvPadding;
  activation?: 'linear' | 'relu';
}

/**
 * `activation(conv2d(xs[i], filter) + bias)` for every input: one kernel
 * (`RetinanetConv2DLevels`) outside a gradient tape on the cpu backend, the values of
 * conv2dBiasAct per input to float32 tolerance (where a level's convolution on its own would have
 * taken the direct kernel, here it may take the Winograd transforms of the others; see
 * docs/building.md). Under a tape, or where the native kernels are off, it is conv2dBiasAct per
 * input, differentiable.
 */
export function conv2dLevels({ xs, filter, bias, strides = 1, pad, activation = 'linear' }: Conv2dLevelsArgs): tf.Tensor4D[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new TypeError('xs: expected a non-empty array of tensors');
  xs.forEach((x, i) => checkConvArgs(`xs[${i}]`, x, filter, bias, activation, pad));
  // One input, or a path without the kernel: conv2dBiasAct per input.
  if (inTraining() || !nativeAccelKernel(CONV2D_LEVELS) || xs.length === 1) {
    return xs.map((x) => conv2dBiasAct({ x, filter, bias, strides, pad, activation }));
  }
  const inputs: tf.NamedTensorMap = { filter };
  xs.forEach((x, i) => { inputs[inputName(i)] = x; });
  if (bias !== undefined) inputs.bias = bias;
  const attrs = { levels: xs.length, strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, activation } as unknown as tf.NamedAttrMap;
  return runKernel<tf.Tensor4D[]>(CONV2D_LEVELS, inputs, attrs);
}
