// The one adapter between a tfjs backend and typed arrays, for the detection kernels
// (lib/tfjs/kernel.ts) and the accelerator's overrides (lib/accel/override.ts): a tensor's values
// as the backend holds them (tfjs's cpu backend: its own array, no copy; other backends:
// readSync, a copy) and a tensor made from a typed array.
import * as tf from '@tensorflow/tfjs';

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

/** A tensor of the backend holding `values` (not copied by tfjs's cpu backend). */
export function backendTensor(backend: unknown, backendName: string, shape: number[], dtype: 'float32' | 'int32', values: Values): tf.TensorInfo {
  const make = (backend as BackendInternals).makeTensorInfo;
  if (typeof make !== 'function') {
    throw new Error(`tfjs-retinanet: the ${backendName} backend cannot make tensors from typed arrays`);
  }
  return make.call(backend, shape, dtype, values);
}
