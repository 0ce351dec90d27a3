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
  if (!a || !b || !at || !bt || at.shape.length < 2 || bt.shape.length < 2) return undefined;
  const { transposeA, transposeB, activation = 'linear', leakyreluAlpha } = attrs as unknown as MatMulAttrs;
  // Any rank from 2 up (tf.matMul of two matrices included): the outer dimensions are one batch,
  // the same on both sides or broadcast from one matrix; other broadcasts are left to tfjs.
  const outerA = at.shape.slice(0, -2), outerB = bt.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA), batchB = tf.util.sizeFromShape(outerB);
  if (batchA === 0 || batchB === 0 || (!tf.util.arraysEqual(outerA, outerB) && batchA !== 1 && batchB !== 1)) return undefined;
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const [a1, a2] = at.shape.slice(-2), [b1, b2] = bt.shape.slice(-2);
  const m = transposeA ? a2 : a1, k = transposeA ? a1 : a2;
  const kb = transposeB ? b2 : b1, n = transposeB ? b1 : b2;
  if (k !== kb) return undefined;
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
  return output(backend, [...outer, m, n], c);
}

defineNativeCpuKernel('BatchMatMul', (args) => matmul(args, false));
defineNativeCpuKernel('_FusedMatMul', (args) => matmul(args, true));
