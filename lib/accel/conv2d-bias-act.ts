// A convolution + bias (+ residual) + activation that stays one fused kernel while training.
// tfjs's tf.fused.conv2d falls back to Conv2D, Add and Relu whenever a gradient is being recorded
// and the activation is not linear, and its ReLU gradient is Step and Multiply: four extra passes
// over the activations per layer, and a ResNet block's identity add and ReLU are two more. Here
// the forward is one kernel in training too — FusedConv2D, or RetinanetConv2DResidual with a
// residual (on the cpu backend: bias, residual and ReLU applied as the GEMM stores its result) —
// and the backward pass takes ReLU's gradient in one native pass from the saved output.
import * as tf from '@tensorflow/tfjs';
import * as ops from './ops';
import { nativeKernelOnActiveBackend, registerRetinanetKernel, runKernel, tensorArg } from '../tfjs/kernel';
import { ConvAttrs, forwardPrecision, inTraining, nativeGeometry, outShape } from './kernels/conv-info';
import { nativeCpuKernels } from './override';

export const RELU_GRAD = 'RetinanetReluGrad';

// Inputs { dy, y } (same shape) → dy · step(y), the bits of tfjs's mul(dy, step(y)).
registerRetinanetKernel(RELU_GRAD, (ctx) => {
  const shape = ctx.shape('dy');
  return ctx.output(shape, 'float32', ops.binaryOp('reluGrad', ctx.input('dy', 'float32') as Float32Array, shape,
    ctx.input('y', 'float32') as Float32Array, ctx.shape('y')), true);
});

/** ReLU's gradient from its output: the native kernel where it is registered, tfjs ops elsewhere. */
function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return nativeKernelOnActiveBackend(RELU_GRAD) ? runKernel<tf.Tensor>(RELU_GRAD, { dy, y }) : tf.mul(dy, tf.step(y));
}

/**
 * ReLU whose gradient is one native pass from the saved output (tfjs's: Step, then Multiply),
 * with tfjs's values and gradient bits. For ReLUs that are not fused into a convolution (after a
 * GroupNorm in the heads).
 */
export function reluFast<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const y = tf.relu(args[0] as tf.Tensor);
    (args[1] as tf.GradSaveFunc)([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, [yy]: tf.Tensor[]) => reluGrad(dy, yy) };
  });
  return op(x) as T;
}

/** A convolution's padding: 'valid', 'same', or tfjs's explicit NHWC [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type ConvPadding = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

export const CONV2D_RESIDUAL = 'RetinanetConv2DResidual';

// Inputs { x, filter, residual, bias? }, attrs { strides, pad, activation } → activation(conv + bias
// + residual): a ResNet block's last convolution, its identity add and ReLU in one GEMM epilogue.
registerRetinanetKernel(CONV2D_RESIDUAL, (ctx) => {
  const a = ctx.attrs as unknown as ConvAttrs & { activation: 'linear' | 'relu' };
  const g = nativeGeometry(ctx.shape('x'), ctx.shape('filter'), a);
  if (!g) throw new RangeError('conv2dBiasAct: only NHWC, dilation 1 is covered');
  const f32 = (name: string): Float32Array => ctx.input(name, 'float32') as Float32Array;
  const bias = ctx.has('bias') ? f32('bias') : undefined;
  return ctx.output(outShape(g), 'float32', ops.conv2d(f32('x'), f32('filter'), g, { bias, residual: f32('residual'), activation: a.activation }, forwardPrecision(), inTraining()), true);
});

/** Whether this backend runs one of the accelerator's kernels natively (on 'cpu': while the native kernels are on). */
export function nativeAccelKernel(kernelName: string): boolean {
  return nativeKernelOnActiveBackend(kernelName) && (tf.getBackend() !== 'cpu' || nativeCpuKernels().enabled);
}

/**
 * The checks conv2dBiasAct and conv2dLevels share: the input `name` against the filter, the bias,
 * the activation and the padding (TypeError / RangeError naming the argument).
 */
export function checkConvArgs(name: string, x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined, activation: string, pad: unknown): void {
  tensorArg(name, x, 'float32', 4);
  const explicit = Array.isArray(pad) && pad.length === 4 && pad.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (pad !== 'valid' && pad !== 'same' && !explicit) throw new TypeError(`pad: expected 'valid', 'same' or [[0, 0], [top, bottom], [left, right], [0, 0]], got ${JSON.stringify(pad)}`);
  tensorArg('filter', filter, 'float32', 4);
  if (filter.shape[2] !== x.shape[3]) throw new RangeError(`filter: expected ${x.shape[3]} input channels (${name}'s), got shape [${filter.shape}]`);
  if (bias !== undefined) {
    tensorArg('bias', bias, 'float32', 1);
    if (bias.shape[0] !== filter.shape[3]) throw new RangeError(`bias: expected shape [${filter.shape[3]}], got [${bias.shape}]`);
  }
  if (activation !== 'linear' && activation !== 'relu') throw new RangeError(`activation: expected 'linear' or 'relu', got ${String(activation)}`);
}

/** The arguments of {@link conv2dBiasAct}. Defaults: strides 1, activation 'linear'. */
export interface Conv2dBiasActArgs {
  /** NHWC float32 input [B, H, W, Cin]. */
  x: tf.Tensor4D;
  /** HWIO float32 filter [fh, fw, Cin, Cout]. */
  filter: tf.Tensor4D;
  /** Per output channel [Cout]; none: no bias. */
  bias?: tf.Tensor1D;
  /** Added before the activation, the output's shape (a ResNet block's identity); none: nothing added. */
  residual?: tf.Tensor4D;
  strides?: number | [number, number];
  /** 'valid', 'same' or tfjs's explicit [[0, 0], [top, bottom], [left, right], [0, 0]]. */
  pad: ConvPadding;
  activation?: 'linear' | 'relu';
  /**
   * false: no gradient flows to x (a network's input image), so the backward pass skips the
   * input-gradient convolution; asking a tape for x's gradient then fails as for any tensor the
   * result does not depend on. Default true.
   */
  inputGradient?: boolean;
  /**
   * false: the bias is a constant (a frozen batch norm's shift folded into the convolution), so
   * the backward pass skips its sum over the output gradient; asking a tape for its gradient
   * then fails likewise. Default true.
   */
  biasGradient?: boolean;
}

/**
 * `activation(conv2d(x, filter) + bias + residual)` (dilation 1), differentiable with respect to
 * x, filter, bias and residual, with the values and gradients of tf.fused.conv2d (plus tf.add and
 * tf.relu for a residual) — but one fused kernel in training as well, and ReLU's gradient in one
 * pass.
 */
export function conv2dBiasAct({ x, filter, bias, residual, strides = 1, pad, activation = 'linear', inputGradient = true, biasGradient = true }: Conv2dBiasActArgs): tf.Tensor4D {
  checkConvArgs('x', x, filter, bias, activation, pad);
  if (typeof inputGradient !== 'boolean') throw new TypeError(`inputGradient: expected a boolean, got ${String(inputGradient)}`);
  if (typeof biasGradient !== 'boolean') throw new TypeError(`biasGradient: expected a boolean, got ${String(biasGradient)}`);
  const convAttrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
  if (residual !== undefined) {
    tensorArg('residual', residual, 'float32', 4);
    const g = nativeGeometry(x.shape, filter.shape, convAttrs as unknown as ConvAttrs);
    const want = g ? outShape(g) : [];
    if (residual.shape.some((d, i) => d !== want[i])) throw new RangeError(`residual: expected the output's shape [${want}], got [${residual.shape}]`);
  }
  const fused = (act: string): tf.NamedAttrMap => ({ ...convAttrs, dilations: [1, 1], activation: act, leakyreluAlpha: undefined } as unknown as tf.NamedAttrMap);
  const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor | undefined, ri: tf.Tensor | undefined): tf.Tensor => {
    const withBias: tf.NamedTensorMap = { x: xi, filter: wi };
    if (bi !== undefined) withBias.bias = bi;
    if (ri === undefined) {
      return runKernel<tf.Tensor>('FusedConv2D', withBias, fused(activation));
    }
    if (nativeAccelKernel(CONV2D_RESIDUAL)) return runKernel<tf.Tensor>(CONV2D_RESIDUAL, { ...withBias, residual: ri }, { ...convAttrs, activation });
    const sum = tf.add(runKernel<tf.Tensor>('FusedConv2D', withBias, fused('linear')), ri);
    return activation === 'relu' ? tf.relu(sum) : sum;
  };
  // The inputs customGrad sees (x only when it gets a gradient), and where each sits among them.
  const inputs: tf.Tensor[] = inputGradient ? [x, filter] : [filter];
  const wIndex = inputGradient ? 1 : 0;
  const bIndex = bias === undefined || !biasGradient ? -1 : inputs.push(bias) - 1;
  const rIndex = residual === undefined ? -1 : inputs.push(residual) - 1;
  // customGrad's function gets the inputs, then `save`; its gradient returns one per input.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    const t = args as tf.Tensor[];
    const xi = inputGradient ? t[0] : x;
    const y = forward(xi, t[wIndex], bIndex < 0 ? bias : t[bIndex], rIndex < 0 ? undefined : t[rIndex]);
    save([xi, t[wIndex], y]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor4D, [xs, w, yy]: tf.Tensor[]) => {
        const d = activation === 'relu' ? reluGrad(dy, yy) : dy;
        const grads = [runKernel<tf.Tensor>('Conv2DBackpropFilter', { x: xs, dy: d }, { ...convAttrs, filterShape: w.shape })];
        if (inputGradient) grads.unshift(runKernel<tf.Tensor>('Conv2DBackpropInput', { dy: d, filter: w }, { ...convAttrs, inputShape: xs.shape }));
        if (bIndex >= 0) grads.push(tf.sum(d, [0, 1, 2]));
        // The residual's gradient is d itself; a copy, as the tape disposes gradients separately.
        if (rIndex >= 0) grads.push(d === dy ? tf.clone(d) : d);
        return grads;
      },
    };
  });
  return op(...inputs);
}
