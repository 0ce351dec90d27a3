// Registers the ops as tfjs kernels. One implementation per op, written against typed arrays;
// this file adapts it to a backend: on 'cpu' it reads and writes the backend's own typed arrays
// (no copies), on other backends ('tensorflow' from tfjs-node) it goes through readSync /
// makeTensorInfo, which copy.
import * as tf from '@tensorflow/tfjs';
import { backendTensor, backendValues, Values } from './backend-arrays';

export type { Values } from './backend-arrays';

/** What a kernel implementation sees: its inputs as typed arrays, its attributes, an output maker. */
export interface KernelContext {
  /** Whether an optional input was given. */
  has(name: string): boolean;
  input(name: string, dtype: 'float32' | 'int32'): Values;
  shape(name: string): number[];
  attrs: tf.NamedAttrMap;
  /** `fresh`: `values` is the native op's new array, held by nobody else (see ./release.ts). */
  output(shape: number[], dtype: 'float32' | 'int32', values: Values, fresh?: boolean): tf.TensorInfo;
}

export type KernelImpl = (ctx: KernelContext) => tf.TensorInfo | tf.TensorInfo[];

/** Backends the kernels are registered for: tfjs's CPU backend and tfjs-node's, when present. */
export const KERNEL_BACKENDS = ['cpu', 'tensorflow'] as const;

function context(
  backendName: string, inputs: tf.NamedTensorInfoMap, backend: tf.KernelBackend, attrs: tf.NamedAttrMap,
): KernelContext {
  const direct = backendName === 'cpu';
  const get = (name: string): tf.TensorInfo => {
    const t = inputs[name];
    if (t === undefined) throw new TypeError(`${name}: missing kernel input`);
    return t;
  };
  return {
    attrs,
    has: (name) => inputs[name] !== undefined,
    shape: (name) => get(name).shape,
    input(name, dtype) {
      const t = get(name);
      if (t.dtype !== dtype) throw new TypeError(`${name}: expected a ${dtype} tensor, got ${t.dtype}`);
      const values = backendValues(backend, t, direct);
      const want = dtype === 'float32' ? Float32Array : Int32Array;
      if (!(values instanceof want)) throw new TypeError(`${name}: the ${backendName} backend holds no ${dtype} array for it`);
      return values;
    },
    output: (shape, dtype, values, fresh) => backendTensor(backend, backendName, shape, dtype, values, fresh),
  };
}

export function registerRetinanetKernel(kernelName: string, impl: KernelImpl): void {
  for (const backendName of KERNEL_BACKENDS) {
    if (tf.getKernel(kernelName, backendName) !== undefined) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => impl(context(backendName, inputs, backend as tf.KernelBackend, attrs ?? {})),
    });
  }
}

/** Whether the active backend is one the kernels serve and `kernelName` is registered for it. */
export function nativeKernelOnActiveBackend(kernelName: string): boolean {
  const backend = tf.getBackend();
  return (KERNEL_BACKENDS as readonly string[]).includes(backend) && tf.getKernel(kernelName, backend) !== undefined;
}

/** Runs a registered kernel: one output, or several. */
export function runKernel<T extends tf.Tensor | tf.Tensor[]>(
  kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {},
): T {
  return tf.engine().runKernel(kernelName, inputs, attrs) as unknown as T;
}

/**
 * The caller's options as the kernel's `options` attribute, unchanged but for a shallow copy of a
 * plain object (the tape may keep attributes; later edits by the caller must not reach them). The
 * kernel hands them to the typed-array op, the one place that checks them and fills in defaults.
 */
export function optionsAttr(options: unknown): tf.NamedAttrMap[string] {
  const plain = options !== null && typeof options === 'object' && Object.getPrototypeOf(options) === Object.prototype;
  return (plain ? { ...(options as object) } : options) as tf.NamedAttrMap[string];
}

/** The `options` attribute a kernel was given (see optionsAttr). */
export function kernelOptions<T>(ctx: KernelContext): T {
  return ctx.attrs.options as unknown as T;
}

/** Checks a tensor argument (TypeError naming it otherwise). */
export function tensorArg(name: string, v: unknown, dtype: 'float32' | 'int32', rank?: number): tf.Tensor {
  if (!(v instanceof tf.Tensor)) throw new TypeError(`${name}: expected a tf.Tensor`);
  if (v.isDisposed) throw new TypeError(`${name}: the tensor is disposed`);
  if (v.dtype !== dtype) throw new TypeError(`${name}: expected a ${dtype} tensor, got ${v.dtype}`);
  if (rank !== undefined && v.rank !== rank) throw new RangeError(`${name}: expected rank ${rank}, got shape [${v.shape}]`);
  return v;
}

/** Whether a gradient tape is recording (tf.grad, variableGrads, minimize). */
export function tapeOn(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}
