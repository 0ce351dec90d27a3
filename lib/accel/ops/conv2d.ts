// NHWC convolution and batched matrix product on typed arrays (the tfjs cpu kernels' engine).
import { EpilogueArg, native } from '../../runtime/addon';
import * as v from '../../ops/validate';
import { checkPrecision, InferencePrecision } from '../../runtime/cpu-isa';

/** Geometry of one NHWC convolution, dilation 1 (tfjs's computeConv2DInfo gives these). */
export interface Conv2DGeometry {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  filterHeight: number; filterWidth: number; outChannels: number;
  strideHeight: number; strideWidth: number;
  padTop: number; padLeft: number;
  outHeight: number; outWidth: number;
}

/** The activation of a fused epilogue (leakyrelu's slope: {@link ConvEpilogue.leakyreluAlpha}, default 0.2). */
export type ActivationName = 'linear' | 'relu' | 'relu6' | 'leakyrelu';
const ACTIVATIONS: Record<ActivationName, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3 };

/** + bias [outChannels], + residual (output-shaped), then the activation: a ResNet block's relu(conv + bias + identity). */
export interface ConvEpilogue {
  bias?: Float32Array;
  activation?: ActivationName;
  leakyreluAlpha?: number;
  residual?: Float32Array;
}

const GEOMETRY_KEYS = ['batch', 'inHeight', 'inWidth', 'inChannels', 'filterHeight', 'filterWidth', 'outChannels',
  'strideHeight', 'strideWidth', 'padTop', 'padLeft', 'outHeight', 'outWidth'] as const;

function geometry(g: Conv2DGeometry): Float64Array {
  if (g === null || typeof g !== 'object') throw new TypeError('geometry: expected an object');
  return Float64Array.from(GEOMETRY_KEYS.map((key) => v.integer(`geometry.${key}`, g[key],
    key.startsWith('stride') ? 1 : 0, 2 ** 31 - 1)));
}

function epilogueArg(e: ConvEpilogue): EpilogueArg {
  const activation = e.activation ?? 'linear';
  if (!(activation in ACTIVATIONS)) throw new TypeError(`activation: expected linear, relu, relu6 or leakyrelu, got ${String(activation)}`);
  return {
    bias: e.bias === undefined ? null : v.float32Array('bias', e.bias),
    activation: ACTIVATIONS[activation],
    leakyreluAlpha: e.leakyreluAlpha === undefined ? 0.2 : v.number('leakyreluAlpha', e.leakyreluAlpha),
    residual: e.residual === undefined ? null : v.float32Array('residual', e.residual),
  };
}

/**
 * y = conv(x, filter) [batch, outHeight, outWidth, outChannels] with the fused epilogue. Filter
 * HWIO. `precision` 'bfloat16': the products from x and filter rounded to bfloat16, summed in
 * float32 (a RangeError where `cpuIsa().bfloat16` is false). `training`: the forward pass of a
 * training step, which keeps the direct kernels unless RETINANET_WINOGRAD=1 (docs/building.md).
 */
export function conv2d(x: Float32Array, filter: Float32Array, g: Conv2DGeometry, epilogue: ConvEpilogue = {},
  precision: InferencePrecision = 'float32', training = false): Float32Array {
  const shape = geometry(g);
  const bfloat16 = checkPrecision('precision', precision) === 'bfloat16';
  return native().conv2d(v.float32Array('x', x), v.float32Array('filter', filter), shape,
    { ...epilogueArg(epilogue), bfloat16, training: v.boolean('training', training) });
}

// The geometry fields that inputs sharing one filter must have in common.
const SHARED_KEYS = ['inChannels', 'filterHeight', 'filterWidth', 'outChannels', 'strideHeight', 'strideWidth', 'padTop', 'padLeft'] as const;

/**
 * ys[i] = conv(xs[i], filter) with the epilogue (bias and activation; no residual) for inputs whose
 * geometries differ only in their batch and spatial sizes: one filter on every pyramid level in
 * one call (inference). The 3x3 stride-1 ones go through one Winograd filter transform and
 * products over all their tiles; `precision` as in {@link conv2d}.
 */
export function conv2dLevels(xs: Float32Array[], filter: Float32Array, gs: Conv2DGeometry[], epilogue: ConvEpilogue = {},
  precision: InferencePrecision = 'float32'): Float32Array[] {
  if (!Array.isArray(xs) || !Array.isArray(gs)) throw new TypeError('xs, geometries: expected arrays');
  if (xs.length === 0 || xs.length !== gs.length) throw new RangeError(`xs, geometries: expected as many (at least one), got ${xs.length} and ${gs.length}`);
  const shapes = new Float64Array(13 * gs.length);
  gs.forEach((g, i) => {
    shapes.set(geometry(g), 13 * i);
    for (const key of SHARED_KEYS) {
      if (g[key] !== gs[0][key]) throw new RangeError(`geometries[${i}].${key}: ${g[key]}, but ${gs[0][key]} for the first input (one filter)`);
    }
  });
  if (epilogue.residual !== undefined) throw new RangeError('epilogue.residual: not with several inputs');
  const bfloat16 = checkPrecision('precision', precision) === 'bfloat16';
  return native().conv2dLevels(xs.map((x, i) => v.float32Array(`xs[${i}]`, x)), v.float32Array('filter', filter), shapes,
    { ...epilogueArg(epilogue), bfloat16 });
}

/** d loss / d x of conv2d, from dy. */
export function conv2dBackpropInput(dy: Float32Array, filter: Float32Array, g: Conv2DGeometry): Float32Array {
  return native().conv2dBackpropInput(v.float32Array('dy', dy), v.float32Array('filter', filter), geometry(g));
}

/** d loss / d filter of conv2d, from x and dy. */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, g: Conv2DGeometry): Float32Array {
  return native().conv2dBackpropFilter(v.float32Array('x', x), v.float32Array('dy', dy), geometry(g));
}

/**
 * Sizes of {@link batchMatMul}: `a` [batchA, m, k] ([batchA, k, m] with transposeA), `b`
 * [batchB, k, n] ([batchB, n, k] with transposeB).
 */
export interface MatMulShape {
  batchA: number; batchB: number; m: number; n: number; k: number;
  transposeA: boolean; transposeB: boolean;
}

/** c[b] = op(a[b]) · op(b[b]) ([max(batchA, batchB), m, n]); a batch of 1 broadcasts. */
export function batchMatMul(a: Float32Array, b: Float32Array, s: MatMulShape, epilogue: ConvEpilogue = {}): Float32Array {
  const shape: MatMulShape = {
    batchA: v.integer('batchA', s.batchA, 0), batchB: v.integer('batchB', s.batchB, 0), m: v.integer('m', s.m, 0),
    n: v.integer('n', s.n, 0), k: v.integer('k', s.k, 0), transposeA: v.boolean('transposeA', s.transposeA),
    transposeB: v.boolean('transposeB', s.transposeB),
  };
  return native().batchMatMul(v.float32Array('a', a), v.float32Array('b', b), shape, epilogueArg(epilogue));
}
