// Conv2D and FusedConv2D (bias + relu / relu6 / leakyrelu) on the native implicit-GEMM convolution.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { ConvAttrs, forwardPrecision, inTraining, nativeGeometry, outShape } from './conv-info';
import { defineNativeCpuKernel, output, values } from '../override';

defineNativeCpuKernel('Conv2D', ({ inputs, backend, attrs }) => {
  const x = values(backend, inputs.x);
  const w = values(backend, inputs.filter);
  const g = x && w && inputs.x && inputs.filter && nativeGeometry(inputs.x.shape, inputs.filter.shape, attrs as unknown as ConvAttrs);
  if (!g || !x || !w) return undefined;
  return output(backend, outShape(g), ops.conv2d(x, w, g, {}, forwardPrecision(), inTraining()));
});

const FUSED_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'leakyrelu']);

defineNativeCpuKernel('FusedConv2D', ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as ConvAttrs & { activation?: string; leakyreluAlpha?: number };
  const activation = a.activation ?? 'linear';
  if (!FUSED_ACTIVATIONS.has(activation) || inputs.preluActivationWeights) return undefined;
  const x = values(backend, inputs.x);
  const w = values(backend, inputs.filter);
  const g = x && w && inputs.x && inputs.filter && nativeGeometry(inputs.x.shape, inputs.filter.shape, a);
  if (!g || !x || !w) return undefined;
  let bias: Float32Array | undefined;
  if (inputs.bias) {
    bias = values(backend, inputs.bias);
    // Only a per-channel bias maps onto the epilogue; other broadcasts go to tfjs.
    if (!bias || tf.util.sizeFromShape(inputs.bias.shape) !== g.outChannels) return undefined;
  }
  return output(backend, outShape(g), ops.conv2d(x, w, g, {
    bias, activation: activation as ops.ActivationName, leakyreluAlpha: a.leakyreluAlpha,
  }, forwardPrecision(), inTraining()));
});
