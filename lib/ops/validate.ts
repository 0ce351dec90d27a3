// Argument checks shared by every entry point: a bad argument is a TypeError (wrong kind) or a
// RangeError (right kind, bad value) naming the argument, thrown before any native code runs.
import { native } from '../runtime/addon';

/** Where an op runs: 'cpu', or 'cuda' (a CUDA build and a GPU: see devices()). */
export type Device = 'cpu' | 'cuda';

/** Options every op takes. */
export interface DeviceOptions {
  /** Where the op runs. Default `'cpu'`; `'cuda'` needs a CUDA build and a GPU. */
  device?: Device;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an Array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

export function float32Array(name: string, v: unknown, multipleOf = 1): Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`${name}: expected a Float32Array, got ${describe(v)}`);
  if (v.length % multipleOf !== 0) {
    throw new RangeError(`${name}: length ${v.length} is not a multiple of ${multipleOf}`);
  }
  return v;
}

/** A Float32Array of exactly `length` elements. */
export function float32ArrayOfLength(name: string, v: unknown, length: number): Float32Array {
  const arr = float32Array(name, v);
  if (arr.length !== length) throw new RangeError(`${name}: expected ${length} elements, got ${arr.length}`);
  return arr;
}

export function int32Array(name: string, v: unknown): Int32Array {
  if (!(v instanceof Int32Array)) throw new TypeError(`${name}: expected an Int32Array, got ${describe(v)}`);
  return v;
}

export function array(name: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${name}: expected an array, got ${describe(v)}`);
  return v;
}

export function number(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${name}: expected a finite number, got ${v}`);
  return v;
}

/** A finite number in [min, max] (bounds optional; `exclusiveMin` makes min exclusive). */
export function numberIn(
  name: string, v: unknown, min = -Infinity, max = Infinity, exclusiveMin = false,
): number {
  const x = number(name, v);
  if (x < min || x > max || (exclusiveMin && x === min)) {
    const lo = exclusiveMin ? `> ${min}` : `>= ${min}`;
    const range = max === Infinity ? lo : `${exclusiveMin ? `(${min}` : `[${min}`}, ${max}]`;
    throw new RangeError(`${name}: expected a number ${max === Infinity ? lo : `in ${range}`}, got ${x}`);
  }
  return x;
}

export function integer(name: string, v: unknown, min: number, max = 2 ** 31 - 1): number {
  const x = number(name, v);
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new RangeError(`${name}: expected an integer in [${min}, ${max}], got ${x}`);
  }
  return x;
}

export function boolean(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
  return v;
}

/**
 * The options object: undefined gives {}; anything else must be a plain object whose keys are
 * all known (a misspelt option is an error, not a silently ignored default).
 */
export function options<K extends string>(
  name: string, v: unknown, known: readonly K[],
): Partial<Record<K | 'device', unknown>> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new TypeError(`${name}: expected an options object, got ${describe(v)}`);
  }
  for (const key of Object.keys(v)) {
    if (key !== 'device' && !(known as readonly string[]).includes(key)) {
      throw new TypeError(`${name}: unknown option '${key}' (known: ${[...known, 'device'].join(', ')})`);
    }
  }
  return v as Partial<Record<K | 'device', unknown>>;
}

function noCuda(message: string): Error {
  const err = new Error(message);
  (err as Error & { code: string }).code = 'ERR_RETINANET_NO_CUDA';
  return err;
}

/**
 * Throws the clear `ERR_RETINANET_NO_CUDA` error unless this build has the CUDA kernels and a GPU
 * that runs them (what `ops.devices()` reports as 'cuda').
 */
export function requireCuda(): void {
  const info = native().cudaInfo();
  if (!info.built) {
    throw noCuda(
      "device 'cuda': this build of tfjs-retinanet has no CUDA kernels (built without nvcc, or with " +
      'RETINANET_CUDA=OFF; ops.devices() lists what is available)',
    );
  }
  if (info.devices < 1) {
    throw noCuda(`device 'cuda': no usable CUDA GPU here (${info.error}); ops.devices() lists what is available`);
  }
}

/** Checks `device`: 'cpu' (default), or 'cuda' where a CUDA build and a GPU are present. */
export function device(v: unknown): Device {
  if (v === undefined || v === 'cpu') return 'cpu';
  if (v === 'cuda') {
    requireCuda();
    return 'cuda';
  }
  throw new TypeError(`device: expected 'cpu' or 'cuda', got ${describe(v)}`);
}

/** `device` for an op that has no CUDA kernel: 'cuda' is the same clear error, GPU or not. */
export function cpuOnlyDevice(op: string, v: unknown): 'cpu' {
  if (device(v) === 'cuda') {
    throw noCuda(`device 'cuda': ${op} has no CUDA kernel (it runs on device 'cpu' only)`);
  }
  return 'cpu';
}

/** Float32Array [n, 4] of well-formed boxes: finite, x2 >= x1, y2 >= y1. */
export function boxes(name: string, v: unknown): Float32Array {
  const b = float32Array(name, v, 4);
  for (let i = 0; i < b.length; i += 4) {
    const x1 = b[i], y1 = b[i + 1], x2 = b[i + 2], y2 = b[i + 3];
    // Written so NaN fails too.
    if (!(x2 >= x1 && y2 >= y1) || !Number.isFinite(x1 + y1 + x2 + y2)) {
      throw new RangeError(
        `${name}: box ${i / 4} [${x1}, ${y1}, ${x2}, ${y2}] is not finite with x2 >= x1 and y2 >= y1`,
      );
    }
  }
  return b;
}

/** Boxes with positive width and height (box coding divides by them and takes their log). */
export function properBoxes(name: string, v: unknown): Float32Array {
  const b = float32Array(name, v, 4);
  for (let i = 0; i < b.length; i += 4) {
    if (!(b[i + 2] > b[i] && b[i + 3] > b[i + 1]) || !Number.isFinite(b[i] + b[i + 1] + b[i + 2] + b[i + 3])) {
      throw new RangeError(
        `${name}: box ${i / 4} [${b[i]}, ${b[i + 1]}, ${b[i + 2]}, ${b[i + 3]}] must be finite with positive width and height`,
      );
    }
  }
  return b;
}

export function finiteValues(name: string, v: Float32Array): Float32Array {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new RangeError(`${name}: element ${i} is ${v[i]}, expected a finite number`);
  }
  return v;
}

/** R-CNN box-coder weights: 4 positive finite numbers. */
export function weights(name: string, v: unknown): Float32Array {
  if (v === undefined) return new Float32Array([1, 1, 1, 1]);
  const w = ArrayBuffer.isView(v) || Array.isArray(v) ? Array.from(v as ArrayLike<number>) : undefined;
  if (w === undefined) throw new TypeError(`${name}: expected 4 numbers, got ${describe(v)}`);
  if (w.length !== 4) throw new RangeError(`${name}: expected 4 numbers, got ${w.length}`);
  w.forEach((x, i) => numberIn(`${name}[${i}]`, x, 0, Infinity, true));
  return new Float32Array(w);
}

/** Largest number of elements one result may hold (2^31 - 1: typed-array and int32 indexing). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function resultSize(name: string, elements: number): void {
  if (elements > MAX_ELEMENTS) {
    throw new RangeError(`${name}: the result would hold ${elements} elements, more than the ${MAX_ELEMENTS} allowed`);
  }
}
