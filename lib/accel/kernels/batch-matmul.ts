// BatchMatMul and _FusedMatMul (bias + relu / relu6 / leakyrelu) on the native GEMM.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { defineNativeCpuKernel, KernelArgs, output, values } from '../override';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

function matmul({ inputs, backend, attrs }: KernelArgs, fused: boolean): tf.TensorInfo | undefined {
  const at = inputs.a, bt = inputs.b;
  const a = values(backend, at);
  const b = values(backend, bt);
  if (!a || !b || !at || !bt || at.shape.length !== 3 || bt.shape.length !== 3) return undefined;
  const { transposeA, transposeB, activation = 'linear', leakyreluAlpha } = attrs as unknown as MatMulAttrs;
  const [batchA, a1, a2] = at.shape;
  const [batchB, b1, b2] = bt.shape;
  const m = transposeA ? a2 : a1, k = transposeA ? a1 : a2;
  const kb = transposeB ? b2 : b1, n = transposeB ? b1 : b2;
  if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  let bias: Float32Array | undefined;
  if (fused) {
    if (!['linear', 'relu', 'relu6', 'leakyrelu'].includes(activation) || inputs.preluActivationWeights) return undefined;
    if (inputs.bias) {
      bias = values(backend, inputs.bias);
      if (!bias || tf.util.sizeFromShape(inputs.bias.shape) !== n) return undefined;
    }
  }
  const c = ops.batchMatMul(a, b, { batchA, batchB, m, n, k, transposeA, transposeB },
    fused ? { bias, activation: activation as ops.ActivationName, leakyreluAlpha } : {});
  return output(backend, [Math.max(batchA, batchB), m, n], c);
}

defineNativeCpuKernel('BatchMatMul', (args) => matmul(args, false));
defineNativeCpuKernel('_FusedMatMul', (args) => matmul(args, true));
