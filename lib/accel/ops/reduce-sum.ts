// Sum of a float32 tensor over some of its axes (the tfjs cpu Sum kernel's engine), with tfjs's
// bits: each sum in double, in tfjs's order, rounded to float32 once.
import { native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/** The tensor seen as [outer, reduce, inner], the reduced axes being the middle run. */
export interface ReduceSumGeometry {
  outer: number;
  reduce: number;
  inner: number;
}

/**
 * How `reduceSum` sees a reduction: the reduced axes, size-1 axes aside, must form one
 * contiguous run (leading axes — per-channel sums of NHWC — trailing axes, everything, or a
 * middle run). Undefined when they do not (tfjs's own kernel then transposes first).
 * `axes`: distinct integers in [-rank, rank).
 */
export function reduceSumGeometry(shape: readonly number[], axes: readonly number[]): ReduceSumGeometry | undefined {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) return undefined;
    const k = a < 0 ? a + rank : a;
    if (reduced[k]) return undefined;
    reduced[k] = true;
  }
  let outer = 1, reduce = 1, inner = 1;
  let phase = 0; // 0: before the reduced run, 1: inside it, 2: after it
  for (let i = 0; i < rank; i++) {
    const d = shape[i];
    if (d === 1) continue;
    if (reduced[i]) {
      if (phase === 2) return undefined;
      phase = 1;
      reduce *= d;
    } else {
      if (phase === 1) phase = 2;
      if (phase === 0) outer *= d;
      else inner *= d;
    }
  }
  return { outer, reduce, inner };
}

/**
 * x [outer, reduce, inner] summed over `reduce`: out [outer, inner] (Float32Array). Each sum runs
 * in double over the reduced elements in row-major order and is rounded once, so the result is
 * tfjs's cpu Sum bit for bit, whatever the thread count.
 */
export function reduceSum(x: Float32Array, g: ReduceSumGeometry): Float32Array {
  const arr = v.float32Array('x', x);
  if (g === null || typeof g !== 'object') throw new TypeError('geometry: expected { outer, reduce, inner }');
  const outer = v.integer('geometry.outer', g.outer, 0);
  const reduce = v.integer('geometry.reduce', g.reduce, 0);
  const inner = v.integer('geometry.inner', g.inner, 0);
  if (arr.length !== outer * reduce * inner) {
    throw new RangeError(`x: expected ${outer * reduce * inner} elements (outer · reduce · inner), got ${arr.length}`);
  }
  return native().reduceSum(arr, outer, reduce, inner);
}
