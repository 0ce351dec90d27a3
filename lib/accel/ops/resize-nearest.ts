// Nearest-neighbour resizing of NHWC float32 images and its gradient (the tfjs cpu
// ResizeNearestNeighbor / ResizeNearestNeighborGrad kernels' engine), with tfjs's index rule.
import { native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/** The input and output sizes of one resize; `alignCorners` as tfjs's (default false). */
export interface ResizeGeometry {
  batch: number; inHeight: number; inWidth: number; channels: number;
  outHeight: number; outWidth: number;
  alignCorners?: boolean;
}

/**
 * The input index each of `outSize` outputs copies along one axis: tfjs's cpu rule without half-
 * pixel centres, floor(i · in / out), or round(i · (in − 1) / (out − 1)) with aligned corners,
 * capped at in − 1 (in doubles, as tfjs computes it).
 */
export function nearestSources(inSize: number, outSize: number, alignCorners: boolean): Int32Array {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  return Int32Array.from({ length: outSize }, (_, i) => Math.min(inSize - 1, alignCorners ? Math.round(ratio * i) : Math.floor(ratio * i)));
}

const KEYS = ['batch', 'inHeight', 'inWidth', 'channels', 'outHeight', 'outWidth'] as const;

function checked(g: ResizeGeometry): { shape: Float64Array; rows: Int32Array; cols: Int32Array; inSize: number; outSize: number } {
  if (g === null || typeof g !== 'object') throw new TypeError('geometry: expected an object');
  const n = KEYS.map((key) => v.integer(`geometry.${key}`, g[key], key === 'inHeight' || key === 'inWidth' ? 1 : 0));
  const alignCorners = g.alignCorners === undefined ? false : v.boolean('geometry.alignCorners', g.alignCorners);
  const inSize = n[0] * n[1] * n[2] * n[3];
  const outSize = n[0] * n[4] * n[5] * n[3];
  v.resultSize('x', inSize);
  v.resultSize('y', outSize);
  return {
    shape: Float64Array.from(n), inSize, outSize,
    rows: nearestSources(n[1], n[4], alignCorners), cols: nearestSources(n[2], n[5], alignCorners),
  };
}

/** y [batch, outHeight, outWidth, channels]: each output pixel a copy of its nearest source's channels. */
export function resizeNearest(x: Float32Array, g: ResizeGeometry): Float32Array {
  const c = checked(g);
  return native().resizeNearest(v.float32ArrayOfLength('x', x, c.inSize), c.shape, c.rows, c.cols);
}

/**
 * d loss / d x of {@link resizeNearest}: each input pixel the sum of the dy pixels that copied it,
 * added in double in row-major order and rounded once (the bits of tfjs's own ResizeNearestNeighborGrad).
 */
export function resizeNearestGrad(dy: Float32Array, g: ResizeGeometry): Float32Array {
  const c = checked(g);
  return native().resizeNearestGrad(v.float32ArrayOfLength('dy', dy, c.outSize), c.shape, c.rows, c.cols);
}
