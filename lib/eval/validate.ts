// Input checks for the evaluator: a bad entry is a TypeError (wrong kind) or RangeError (bad
// value) naming it, thrown before any work. Valid entries are copied into flat typed arrays, so
// the caller's objects are only read, never sorted or annotated in place (pycocotools, by
// contrast, writes `ignore` / `_ignore` / `area` into the dicts it is given).

import type { Detection, GroundTruth } from './types';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function finite(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${name}: expected a finite number, got ${v}`);
  return v;
}

/** `finite` for `list[i].key`; the name is built only on failure (this runs per entry). */
function field(list: string, i: number, key: string, v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : finite(`${list}[${i}].${key}`, v);
}

function record(name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError(`${name}: expected an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function entry(list: string, i: number, v: unknown): object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : record(`${list}[${i}]`, v);
}

export function arrayArg(name: string, v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${name}: expected an array, got ${describe(v)}`);
  return v;
}

/** Checks `list[i].bbox` and writes it to `out[4 * i …]`. */
function bbox(list: string, v: unknown, out: Float64Array, i: number): void {
  const name = (): string => `${list}[${i}].bbox`;
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new TypeError(`${name()}: expected [x, y, width, height], got ${describe(v)}`);
  }
  const b = v as ArrayLike<unknown>;
  if (b.length !== 4) throw new RangeError(`${name()}: expected 4 numbers [x, y, width, height], got ${b.length}`);
  for (let c = 0; c < 4; c++) {
    const x = b[c];
    out[4 * i + c] = typeof x === 'number' && Number.isFinite(x) ? x : finite(`${name()}[${c}]`, x);
  }
  if (out[4 * i + 2] < 0 || out[4 * i + 3] < 0) {
    throw new RangeError(`${name()}: width and height must be >= 0, got [${Array.from(b).join(', ')}]`);
  }
}

/** Ground truth as flat arrays, in input order. */
export interface PackedGts {
  n: number;
  imageId: Float64Array;
  categoryId: Float64Array;
  /** `[n, 4]` xywh. */
  box: Float64Array;
  area: Float64Array;
  crowd: Uint8Array;
}

/** Detections as flat arrays, in input order. */
export interface PackedDets {
  n: number;
  imageId: Float64Array;
  categoryId: Float64Array;
  box: Float64Array;
  score: Float64Array;
}

export function packGroundTruth(gts: unknown): PackedGts {
  const list = arrayArg('groundTruth', gts);
  const n = list.length;
  const p: PackedGts = {
    n, imageId: new Float64Array(n), categoryId: new Float64Array(n), box: new Float64Array(4 * n),
    area: new Float64Array(n), crowd: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    const g = entry('groundTruth', i, list[i]) as Partial<Record<keyof GroundTruth, unknown>>;
    p.imageId[i] = field('groundTruth', i, 'imageId', g.imageId);
    p.categoryId[i] = field('groundTruth', i, 'categoryId', g.categoryId);
    bbox('groundTruth', g.bbox, p.box, i);
    if (g.area === undefined) {
      p.area[i] = p.box[4 * i + 2] * p.box[4 * i + 3];
    } else {
      const a = field('groundTruth', i, 'area', g.area);
      if (a < 0) throw new RangeError(`groundTruth[${i}].area: expected a number >= 0, got ${a}`);
      p.area[i] = a;
    }
    const c = g.iscrowd;
    if (c !== undefined && c !== true && c !== false && c !== 0 && c !== 1) {
      throw new TypeError(`groundTruth[${i}].iscrowd: expected a boolean, 0 or 1, got ${describe(c)}`);
    }
    p.crowd[i] = c === true || c === 1 ? 1 : 0;
    if (g.id !== undefined) field('groundTruth', i, 'id', g.id);
  }
  return p;
}

export function packDetections(dets: unknown): PackedDets {
  const list = arrayArg('detections', dets);
  const n = list.length;
  const p: PackedDets = {
    n, imageId: new Float64Array(n), categoryId: new Float64Array(n), box: new Float64Array(4 * n),
    score: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const d = entry('detections', i, list[i]) as Partial<Record<keyof Detection, unknown>>;
    p.imageId[i] = field('detections', i, 'imageId', d.imageId);
    p.categoryId[i] = field('detections', i, 'categoryId', d.categoryId);
    bbox('detections', d.bbox, p.box, i);
    p.score[i] = field('detections', i, 'score', d.score);
  }
  return p;
}

/** Sorted unique ids (`np.unique`), from an option or from the entries. */
export function idList(name: string, given: unknown, ...found: Float64Array[]): number[] {
  const ids = new Set<number>(); // merges -0 and 0, as the Maps keyed by id do
  if (given === undefined) {
    for (const f of found) for (let i = 0; i < f.length; i++) ids.add(f[i]);
  } else {
    arrayArg(name, given).forEach((v, i) => ids.add(finite(`${name}[${i}]`, v)));
  }
  return Array.from(Float64Array.from(ids).sort()); // typed-array sort is numeric
}

export function optionsRecord(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  return record('options', v);
}
