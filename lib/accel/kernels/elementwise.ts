// Add, Sub, Multiply, RealDiv, Maximum, Minimum (float32, any broadcast), Relu and Step
// (float32) on the native kernels, with tfjs's own bits (see native/accel/elementwise.h). Other
// dtypes, complex numbers, shapes that do not broadcast (tfjs reports them) and small tensors
// (MIN_NATIVE_ELEMENTS) go to tfjs's own kernels.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { defineNativeCpuKernel, output, values } from '../override';

/**
 * Output sizes below which tfjs's own JavaScript loop is as fast as the call into the addon (about
 * 2.5 µs for a binary op with its shape checks, 1 µs for a unary one, on top of the engine's ~2 µs
 * per kernel; tf.mul / tf.relu timed at 1…4096 elements on x86-64), so those stay with tfjs.
 * tfjs's Sum transposes first: the native Sum wins at every size and has no threshold.
 */
export const MIN_NATIVE_ELEMENTS = { binary: 512, unary: 256 } as const;

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

function binary(kernelName: string, op: ops.BinaryOpName): void {
  defineNativeCpuKernel(kernelName, ({ inputs, backend }) => {
    const { a, b } = inputs;
    const av = values(backend, a);
    const bv = values(backend, b);
    if (!a || !b || !av || !bv) return undefined;
    const shape = ops.broadcastShape(a.shape, b.shape);
    if (shape === undefined || size(shape) < MIN_NATIVE_ELEMENTS.binary) return undefined;
    return output(backend, shape, ops.binaryOp(op, av, a.shape, bv, b.shape));
  });
}

binary(tf.Add, 'add');
binary(tf.Sub, 'sub');
binary(tf.Multiply, 'mul');
binary(tf.RealDiv, 'div');
binary(tf.Maximum, 'max');
binary(tf.Minimum, 'min');

defineNativeCpuKernel(tf.Relu, ({ inputs, backend }) => {
  const x = values(backend, inputs.x);
  if (!inputs.x || !x || x.length < MIN_NATIVE_ELEMENTS.unary) return undefined;
  return output(backend, inputs.x.shape, ops.unaryOp('relu', x));
});

defineNativeCpuKernel(tf.Step, ({ inputs, backend, attrs }) => {
  const x = values(backend, inputs.x);
  const alpha = (attrs as { alpha?: unknown } | undefined)?.alpha;
  if (!inputs.x || !x || x.length < MIN_NATIVE_ELEMENTS.unary || typeof alpha !== 'number') return undefined;
  return output(backend, inputs.x.shape, ops.unaryOp('step', x, alpha));
});
