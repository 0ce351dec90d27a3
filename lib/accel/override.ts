// Native kernels put over tfjs's own `cpu` kernels (Conv2D and friends, BatchMatMul, MaxPool and
// MaxPoolGrad, ResizeNearestNeighbor and its gradient, the float32 elementwise kernels and Sum).
// Each keeps the kernel it replaced and hands it every call it does not cover, so an unusual
// shape, dtype or attribute is computed by tfjs, never wrongly. useNativeCpuKernels(false) gives tfjs's back.
import * as tf from '@tensorflow/tfjs';
import { backendTensor, backendValues } from '../tfjs/backend-arrays';

export type KernelArgs = Parameters<tf.KernelFunc>[0];
/** Returns the output, or undefined to let tfjs's own kernel compute it. */
export type NativeCpuKernel = (args: KernelArgs) => tf.TensorInfo | undefined;

interface Entry {
  original: tf.KernelConfig;
  native: NativeCpuKernel;
}

const entries = new Map<string, Entry>();
let enabled = false;

/** The cpu backend's own float32 array of a tensor (no copy), or undefined. */
export function values(backend: unknown, t: tf.TensorInfo | undefined): Float32Array | undefined {
  if (t === undefined || t.dtype !== 'float32') return undefined;
  const v = backendValues(backend, t, true);
  return v instanceof Float32Array ? v : undefined;
}

/** A tensor of the cpu backend holding `data`, a native kernel's new output. */
export function output(backend: unknown, shape: number[], data: Float32Array): tf.TensorInfo {
  return backendTensor(backend, 'cpu', shape, 'float32', data, true);
}

/** Declares a native kernel for tfjs's cpu backend (installed while native kernels are on). */
export function defineNativeCpuKernel(kernelName: string, native: NativeCpuKernel): void {
  const original = tf.getKernel(kernelName, 'cpu');
  if (original === undefined) return; // this tfjs has no such kernel: nothing to replace
  entries.set(kernelName, { original, native });
  if (enabled) install(kernelName);
}

function install(kernelName: string): void {
  const e = entries.get(kernelName);
  if (!e) return;
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({
    ...e.original,
    kernelFunc: (args) => e.native(args) ?? e.original.kernelFunc(args),
  });
}

function uninstall(kernelName: string): void {
  const e = entries.get(kernelName);
  if (!e) return;
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel(e.original);
}

/**
 * Switches the native convolution / matrix / max-pool / resize / elementwise / sum kernels of tfjs's `cpu` backend on (the default once
 * `tfjs-retinanet` is imported) or off (tfjs's own kernels).
 */
export function useNativeCpuKernels(on = true): void {
  if (typeof on !== 'boolean') throw new TypeError('on: expected a boolean');
  if (on === enabled) return;
  enabled = on;
  for (const name of entries.keys()) (on ? install : uninstall)(name);
}

/** Whether the native cpu kernels are installed, and which kernels they cover. */
export function nativeCpuKernels(): { enabled: boolean; kernels: string[] } {
  return { enabled, kernels: [...entries.keys()] };
}
