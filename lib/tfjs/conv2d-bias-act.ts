// A convolution + bias + activation that stays one fused kernel while training. tfjs's
// tf.fused.conv2d falls back to Conv2D, Add and Relu whenever a gradient is being recorded and the
// activation is not linear, and its ReLU gradient is Step and Multiply: four extra passes over
// the activations per layer. Here the forward is the FusedConv2D kernel (the native one on the
// cpu backend: bias and ReLU applied as the GEMM stores its result) in training too, and the
// backward pass takes ReLU's gradient in one native pass from the saved output.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { KERNEL_BACKENDS, registerRetinanetKernel, runKernel, tensorArg } from './kernel';

export const RELU_GRAD = 'RetinanetReluGrad';

// Inputs { dy, y } (same shape) → dy · step(y), the bits of tfjs's mul(dy, step(y)).
registerRetinanetKernel(RELU_GRAD, (ctx) => {
  const shape = ctx.shape('dy');
  return ctx.output(shape, 'float32', ops.binaryOp('reluGrad', ctx.input('dy', 'float32') as Float32Array, shape,
    ctx.input('y', 'float32') as Float32Array, ctx.shape('y')));
});

/** ReLU's gradient from its output: the native kernel where it is registered, tfjs ops elsewhere. */
function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const backend = tf.getBackend();
  if ((KERNEL_BACKENDS as readonly string[]).includes(backend) && tf.getKernel(RELU_GRAD, backend) !== undefined) {
    return runKernel<tf.Tensor>(RELU_GRAD, { dy, y });
  }
  return tf.mul(dy, tf.step(y));
}

export type ConvPadding = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

export interface Conv2dBiasActArgs {
  /** NHWC float32 input [B, H, W, Cin]. */
  x: tf.Tensor4D;
  /** HWIO float32 filter [fh, fw, Cin, Cout]. */
  filter: tf.Tensor4D;
  /** Per output channel [Cout]; none: no bias. */
  bias?: tf.Tensor1D;
  strides?: number | [number, number];
  /** 'valid', 'same' or tfjs's explicit [[0, 0], [top, bottom], [left, right], [0, 0]]. */
  pad: ConvPadding;
  activation?: 'linear' | 'relu';
}

/**
 * `activation(conv2d(x, filter) + bias)` (dilation 1), differentiable with respect to x, filter
 * and bias, with the same values and gradients as tf.fused.conv2d — but one FusedConv2D kernel
 * in training as well, and ReLU's gradient in one pass.
 */
export function conv2dBiasAct({ x, filter, bias, strides = 1, pad, activation = 'linear' }: Conv2dBiasActArgs): tf.Tensor4D {
  tensorArg('x', x, 'float32', 4);
  tensorArg('filter', filter, 'float32', 4);
  if (filter.shape[2] !== x.shape[3]) throw new RangeError(`filter: expected ${x.shape[3]} input channels (x's), got shape [${filter.shape}]`);
  if (bias !== undefined) {
    tensorArg('bias', bias, 'float32', 1);
    if (bias.shape[0] !== filter.shape[3]) throw new RangeError(`bias: expected shape [${filter.shape[3]}], got [${bias.shape}]`);
  }
  if (activation !== 'linear' && activation !== 'relu') throw new RangeError(`activation: expected 'linear' or 'relu', got ${String(activation)}`);
  const convAttrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
  const forward = (inputs: tf.NamedTensorMap): tf.Tensor4D => runKernel<tf.Tensor4D>('FusedConv2D', inputs,
    { ...convAttrs, dilations: [1, 1], activation, leakyreluAlpha: undefined } as unknown as tf.NamedAttrMap);
  const backward = (dy: tf.Tensor, xs: tf.Tensor4D, w: tf.Tensor4D, y: tf.Tensor): tf.Tensor[] => {
    const d = activation === 'relu' ? reluGrad(dy, y) : dy;
    const dx = runKernel<tf.Tensor>('Conv2DBackpropInput', { dy: d, filter: w }, { ...convAttrs, inputShape: xs.shape });
    const dw = runKernel<tf.Tensor>('Conv2DBackpropFilter', { x: xs, dy: d }, { ...convAttrs, filterShape: w.shape });
    return [dx, dw, tf.sum(d, [0, 1, 2])];
  };
  const inputs = bias === undefined ? [x, filter] : [x, filter, bias];
  // customGrad's function gets the inputs, then `save`; its gradient returns one per input.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    const [xi, wi] = args as tf.Tensor[];
    const y = forward(inputs.length === 2 ? { x: xi, filter: wi } : { x: xi, filter: wi, bias: args[2] as tf.Tensor });
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, [xs, w, yy]: tf.Tensor[]) =>
        backward(dy, xs as tf.Tensor4D, w as tf.Tensor4D, yy).slice(0, inputs.length),
    };
  });
  return op(...inputs);
}
