// 2-D max pooling on NHWC float32 typed arrays (the tfjs cpu MaxPool / MaxPoolGrad kernels' engine).
import { native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/**
 * Geometry of one NHWC max pool, dilation 1 (tfjs's computePool2DInfo gives these). Windows
 * start at `out · stride − pad`; cells outside the input are skipped (they never win).
 */
export interface Pool2DGeometry {
  batch: number; inHeight: number; inWidth: number; channels: number;
  filterHeight: number; filterWidth: number;
  strideHeight: number; strideWidth: number;
  padTop: number; padLeft: number;
  outHeight: number; outWidth: number;
}

const KEYS = ['batch', 'inHeight', 'inWidth', 'channels', 'filterHeight', 'filterWidth', 'strideHeight', 'strideWidth',
  'padTop', 'padLeft', 'outHeight', 'outWidth'] as const;

function geometry(g: Pool2DGeometry): { shape: Float64Array; inSize: number; outSize: number } {
  if (g === null || typeof g !== 'object') throw new TypeError('geometry: expected an object');
  const n = KEYS.map((key) => v.integer(`geometry.${key}`, g[key],
    key.startsWith('stride') || key.startsWith('filter') ? 1 : 0, 2 ** 31 - 1));
  const inSize = n[0] * n[1] * n[2] * n[3];
  const outSize = n[0] * n[10] * n[11] * n[3];
  v.resultSize('x', inSize);
  v.resultSize('y', outSize);
  return { shape: Float64Array.from(n), inSize, outSize };
}

/**
 * y [batch, outHeight, outWidth, channels]: the maximum of each window, tfjs's semantics (NaN
 * never wins; a window with nothing above -Infinity gives -Infinity).
 */
export function maxPool(x: Float32Array, g: Pool2DGeometry): Float32Array {
  const { shape, inSize } = geometry(g);
  return native().maxPool(v.float32ArrayOfLength('x', x, inSize), shape);
}

/**
 * d loss / d x of {@link maxPool}: each dy goes to its window's first maximum (row-major scan
 * order, as tfjs's MaxPoolGrad), summed where windows overlap.
 */
export function maxPoolGrad(x: Float32Array, dy: Float32Array, g: Pool2DGeometry): Float32Array {
  const { shape, inSize, outSize } = geometry(g);
  return native().maxPoolGrad(v.float32ArrayOfLength('x', x, inSize), v.float32ArrayOfLength('dy', dy, outSize), shape);
}
