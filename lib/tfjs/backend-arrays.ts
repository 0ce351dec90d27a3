// The one adapter between a tfjs backend and typed arrays, for the detection kernels
// (lib/tfjs/kernel.ts) and the accelerator's overrides (lib/accel/override.ts): a tensor's values
// as the backend holds them (tfjs's cpu backend: its own array, no copy; other backends:
// readSync, a copy) and a tensor made from a typed array.
import * as tf from '@tensorflow/tfjs';
import { releasableOutput } from './release';

export type Values = Float32Array | Int32Array;

interface BackendInternals {
  data?: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values: Values): tf.TensorInfo;
  readSync(dataId: tf.DataId): unknown;
}

/** `t`'s values: the backend's own array when `direct` (tfjs's cpu backend), else readSync's copy. */
export function backendValues(backend: unknown, t: tf.TensorInfo, direct: boolean): unknown {
  const b = backend as BackendInternals;
  return direct ? b.data?.get(t.dataId).values : b.readSync(t.dataId);
}

/**
 * A tensor of the backend holding `values` (not copied by tfjs's cpu backend). `fresh`: the array
 * is a native kernel's new output that nobody else holds, which the cpu backend may then free as
 * soon as its last tensor is disposed (./release.ts).
 */
export function backendTensor(
  backend: unknown, backendName: string, shape: number[], dtype: 'float32' | 'int32', values: Values, fresh = false,
): tf.TensorInfo {
  const make = (backend as BackendInternals).makeTensorInfo;
  if (typeof make !== 'function') {
    throw new Error(`tfjs-retinanet: the ${backendName} backend cannot make tensors from typed arrays`);
  }
  return make.call(backend, shape, dtype, fresh && backendName === 'cpu' ? releasableOutput(backend, values) : values);
}

/**
 * `t`'s float32 values for a read that ends before `t` is disposed: on tfjs's cpu backend its own
 * array, not marked as read out (so ./release.ts may still free it with the tensor); elsewhere
 * dataSync's.
 */
export function peekFloat32(t: tf.Tensor): Float32Array {
  const v = tf.getBackend() === 'cpu' ? backendValues(tf.backend(), t, true) : undefined;
  return v instanceof Float32Array ? v : (t.dataSync() as Float32Array);
}

/** A float32 tensor of the active backend holding `values`, a native op's new array (see backendTensor's `fresh`). */
export function freshTensor(values: Float32Array, shape: number[]): tf.Tensor {
  if (tf.getBackend() !== 'cpu') return tf.tensor(values, shape, 'float32');
  return tf.engine().makeTensorFromTensorInfo(backendTensor(tf.backend(), 'cpu', shape, 'float32', values, true));
}
