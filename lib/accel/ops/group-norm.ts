// GroupNorm (torch.nn.GroupNorm) on NHWC float32 typed arrays: forward with the per-group
// statistics, and the backward pass that gives dx, dγ and dβ in one native call.
import { GroupNormShapeArg, native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/** `[batch, height, width, channels]` of an NHWC tensor. */
export type NhwcShape = readonly [number, number, number, number];

/** Options of {@link groupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance before the square root. Default 1e-5 (torch's). */
  eps?: number;
}

/** {@link groupNorm}'s output and the per-group statistics {@link groupNormBackward} needs. */
export interface GroupNormResult {
  /** `[B, H, W, C]`: `(x − mean) · rstd · gamma[c] + beta[c]`. */
  y: Float32Array;
  /** `[B, G]`: each image and group's mean over its `H·W·C/G` values. */
  mean: Float32Array;
  /** `[B, G]`: `1 / sqrt(var + eps)`, with the biased variance. */
  rstd: Float32Array;
}

/** {@link groupNormBackward}'s gradients with respect to x, gamma and beta. */
export interface GroupNormGrads {
  /** `[B, H, W, C]` */
  dx: Float32Array;
  /** `[C]` */
  dgamma: Float32Array;
  /** `[C]` */
  dbeta: Float32Array;
}

/** The checked sizes: the binding's shape argument (read by name) plus the element count. */
interface Checked extends GroupNormShapeArg {
  size: number;
}

function checkShape(shape: unknown, groups: unknown): Checked {
  if (!Array.isArray(shape)) throw new TypeError(`shape: expected [batch, height, width, channels], got ${typeof shape}`);
  if (shape.length !== 4) throw new RangeError(`shape: expected 4 numbers [batch, height, width, channels], got ${shape.length}`);
  const [b, h, w, c] = (['batch', 'height', 'width', 'channels'] as const)
    .map((name, i) => v.integer(`shape[${i}] (${name})`, shape[i], name === 'channels' ? 1 : 0, v.MAX_ELEMENTS));
  const g = v.integer('groups', groups, 1, c);
  if (c % g !== 0) throw new RangeError(`groups: ${g} does not divide the ${c} channels`);
  const size = b * h * w * c;
  v.resultSize('x', size);
  return { batch: b, spatial: h * w, channels: c, groups: g, size };
}

/**
 * GroupNorm of `x` (NHWC `shape`, float32): the channels split into `groups` groups of
 * consecutive channels; per image and group, mean and biased variance over the group's values.
 * Non-finite values in `x` make their image and group's results NaN (as in torch).
 */
export function groupNorm(
  x: Float32Array, shape: NhwcShape, groups: number, gamma: Float32Array, beta: Float32Array,
  options?: GroupNormOptions,
): GroupNormResult {
  const s = checkShape(shape, groups);
  const o = v.options('options', options, ['eps']);
  v.cpuOnlyDevice('groupNorm', o.device);
  const eps = o.eps === undefined ? 1e-5 : v.numberIn('eps', o.eps, 0, Infinity, true);
  const f = v.float32ArrayOfLength;
  const [y, mean, rstd] = native().groupNorm(f('x', x, s.size), f('gamma', gamma, s.channels), f('beta', beta, s.channels), s, eps);
  return { y, mean, rstd };
}

/**
 * The gradients of {@link groupNorm} from `dy` and the forward pass's `x`, `mean`, `rstd` and
 * `gamma`: `dx`, `dgamma` (Σ dy·x̂ per channel) and `dbeta` (Σ dy per channel), in one pass.
 */
export function groupNormBackward(
  dy: Float32Array, x: Float32Array, shape: NhwcShape, groups: number, mean: Float32Array, rstd: Float32Array,
  gamma: Float32Array, options?: { device?: 'cpu' | 'cuda' },
): GroupNormGrads {
  const s = checkShape(shape, groups);
  v.cpuOnlyDevice('groupNormBackward', v.options('options', options, []).device);
  const stats = s.batch * s.groups;
  const f = v.float32ArrayOfLength;
  const [dx, dgamma, dbeta] = native().groupNormBackward(f('dy', dy, s.size), f('x', x, s.size), f('mean', mean, stats),
    f('rstd', rstd, stats), f('gamma', gamma, s.channels), s);
  return { dx, dgamma, dbeta };
}
