// Early release: the native kernels' output buffers are freed when tfjs disposes their last
// tensor, not at a later garbage collection. tfjs's cpu backend drops a disposed tensor's array
// and leaves it to V8, which frees ArrayBuffers only when it collects, and starts a collection
// for every 64 MB of new ones: ~40 full collections a ResNet-50 training step at 600 px, 3-8 an
// inference, each one marking on V8's helper threads beside the kernels, and the freed buffers'
// pages idle in the meantime. A buffer is released (detached: V8 frees it at once and stops
// counting it) only when it is one a native kernel made, no live tensor of the backend still
// holds it (a slice's view, a reshape's shared data), and nothing has read it out (dataSync,
// data, a move to another backend): a released buffer's every view turns empty, so one that
// could have reached anybody's code is left to the collector.
import { native } from '../runtime/addon';
import { withDeferredExternalMemory } from '../runtime/memory';

interface Stored { values?: unknown }
interface DataStorage {
  get(dataId: object): Stored | undefined;
  set(dataId: object, value: Stored): void;
  has(dataId: object): boolean;
  delete(dataId: object): boolean;
}
interface CpuBackendInternals {
  data?: DataStorage;
  readSync?: (dataId: object) => unknown;
  read?: (dataId: object) => Promise<unknown>;
}

// Buffers a native kernel made that nothing has read out, with how many of the backend's
// entries hold them.
const releasable = new WeakMap<ArrayBuffer, number>();
// The buffer each entry was counted for (an entry's values may be replaced in place later).
const counted = new WeakMap<object, ArrayBuffer>();
const hooked = new WeakSet<object>();
let enabled = true;

function bufferOf(values: unknown): ArrayBuffer | undefined {
  return ArrayBuffer.isView(values) && values.buffer instanceof ArrayBuffer ? values.buffer : undefined;
}

function uncount(dataId: object): void {
  const buf = counted.get(dataId);
  if (buf === undefined) return;
  counted.delete(dataId);
  const n = releasable.get(buf);
  if (n === undefined) return; // read out since: the collector frees it
  if (n > 1) {
    releasable.set(buf, n - 1);
  } else {
    releasable.delete(buf);
    if (enabled) native().releaseBuffer(buf);
  }
}

function expose(backend: CpuBackendInternals, dataId: object): void {
  const buf = bufferOf(backend.data?.has(dataId) ? backend.data.get(dataId)?.values : undefined);
  if (buf !== undefined) releasable.delete(buf);
}

// Wraps one backend instance's data storage and readers (tfjs 4.x internals; a backend without
// them is left as it is, and its buffers to the collector).
function hook(backend: CpuBackendInternals): void {
  hooked.add(backend);
  const data = backend.data;
  const readSync = backend.readSync;
  const read = backend.read;
  if (!data || typeof data.set !== 'function' || typeof data.delete !== 'function' ||
      typeof readSync !== 'function' || typeof read !== 'function') return;
  const set = data.set.bind(data);
  const del = data.delete.bind(data);
  data.set = (dataId, value) => {
    set(dataId, value);
    // The new holder is counted before the entry's old one is dropped: both may be one buffer.
    const buf = bufferOf(value.values);
    const n = buf === undefined ? undefined : releasable.get(buf);
    if (buf !== undefined && n !== undefined) releasable.set(buf, n + 1);
    uncount(dataId);
    if (buf !== undefined && n !== undefined) counted.set(dataId, buf);
  };
  data.delete = (dataId) => {
    const had = del(dataId);
    uncount(dataId);
    return had;
  };
  backend.readSync = function (this: unknown, dataId: object) {
    expose(backend, dataId);
    return readSync.call(this, dataId);
  };
  backend.read = function (this: unknown, dataId: object) {
    expose(backend, dataId);
    return read.call(this, dataId);
  };
}

/**
 * Marks `values`, an array a native kernel has just made, as one to free when the backend drops
 * it, and returns it. Call before the backend stores it (makeTensorInfo).
 */
export function releasableOutput<T extends Float32Array | Int32Array>(backend: unknown, values: T): T {
  if (backend !== null && typeof backend === 'object' && !hooked.has(backend)) hook(backend as CpuBackendInternals);
  const buf = bufferOf(values);
  if (buf !== undefined && !releasable.has(buf)) releasable.set(buf, 0);
  return values;
}

/**
 * Frees the native kernels' output buffers of tfjs's cpu backend as soon as their last tensor is
 * disposed (true, the default) or leaves every buffer to V8's garbage collector as tfjs does
 * (false). Off is for comparisons, and for code that keeps a kernel's output array by reaching
 * into the backend's storage (which tfjs does not offer: `dataSync` and `data` are safe).
 */
export function useEarlyRelease(on = true): void {
  if (typeof on !== 'boolean') throw new TypeError('on: expected a boolean');
  enabled = on;
}

/** Whether the cpu backend frees native outputs when their last tensor is disposed. */
export function earlyRelease(): boolean {
  return enabled;
}

/**
 * Runs `fn` — a training step, an inference — with its native outputs left out of V8's
 * external-memory count while it runs (withDeferredExternalMemory) where early release is on:
 * their garbage is then freed as it is disposed and needs no collection. With early release off
 * the garbage is the collector's to find, so it must count it: `fn` runs as it is.
 */
export function deferredWhileReleasing<T>(fn: () => T): T {
  return enabled ? withDeferredExternalMemory(fn) : fn();
}
