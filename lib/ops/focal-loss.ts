import { native } from '../runtime/addon';
import * as v from './validate';

/** The focal losses' defaults, in one place: the paper's α = 0.25 and γ = 2 for FL (eq. 5), γ = 4 and β = 0 for FL* (appendix). */
export const FOCAL_LOSS_DEFAULTS = { alpha: 0.25, gamma: 2 } as const;
export const FOCAL_LOSS_STAR_DEFAULTS = { alpha: 0.25, gamma: 4, beta: 0 } as const;

export interface FocalLossOptions extends v.DeviceOptions {
  /** Weight of the target-class terms (1 - alpha for the others); `null` turns balancing off. Default 0.25. */
  alpha?: number | null;
  /** Focusing parameter γ ≥ 0 (0: α-balanced cross entropy). Default 2. */
  gamma?: number;
  /** Divides loss and gradient. Default: number of foreground anchors, at least 1. */
  normalizer?: number;
  /** Compute d loss / d logits in the same pass. Default true. */
  grad?: boolean;
  /** Where to write the gradient (length n·K) instead of a new array. */
  out?: Float32Array;
}

/** Options of {@link focalLossStar}: FL*'s γ and β instead of FL's γ; the rest as {@link FocalLossOptions}. */
export interface FocalLossStarOptions extends Omit<FocalLossOptions, 'gamma'> {
  /** Steepness γ > 0. Default 4. */
  gamma?: number;
  /** Shift β. Default 0. */
  beta?: number;
}

/** A focal loss's value and, unless `grad: false`, its gradient with respect to the logits. */
export interface LossResult {
  /** Summed loss over non-ignored anchors and all classes, divided by the normalizer. */
  loss: number;
  /** d loss / d logits, `[n, K]` like the logits; 0 on ignored anchors. Absent with `grad: false`. */
  grad?: Float32Array;
}

const FL_OPTIONS = ['alpha', 'gamma', 'normalizer', 'grad', 'out'] as const;
const FL_STAR_OPTIONS = [...FL_OPTIONS, 'beta'] as const;

/** Checks labels (every value in -2…K-1) and counts the foreground anchors. */
function labelsForeground(labels: Int32Array, numClasses: number): number {
  let fg = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= 0) {
      if (l >= numClasses) {
        throw new RangeError(`labels: labels[${i}] = ${l}, expected 0…${numClasses - 1}, -1 (background) or -2 (ignored)`);
      }
      fg++;
    } else if (l < -2) {
      throw new RangeError(`labels: labels[${i}] = ${l}, expected 0…${numClasses - 1}, -1 (background) or -2 (ignored)`);
    }
  }
  return fg;
}

function run(
  star: boolean, logitsArg: unknown, labelsArg: unknown, numClassesArg: unknown,
  opts: Partial<Record<string, unknown>>, gammaDefault: number,
): LossResult {
  const dev = v.device(opts.device);
  const numClasses = v.integer('numClasses', numClassesArg, 1);
  const logits = v.float32Array('logits', logitsArg);
  const labels = v.int32Array('labels', labelsArg);
  if (logits.length !== labels.length * numClasses) {
    throw new RangeError(
      `logits: length ${logits.length} is not labels.length × numClasses = ${labels.length} × ${numClasses}`,
    );
  }
  const alpha = opts.alpha === undefined ? FOCAL_LOSS_DEFAULTS.alpha : opts.alpha === null ? null : v.numberIn('alpha', opts.alpha, 0, 1);
  const gamma = opts.gamma === undefined ? gammaDefault : star
    ? v.numberIn('gamma', opts.gamma, 0, Infinity, true)
    : v.numberIn('gamma', opts.gamma, 0);
  const beta = star && opts.beta !== undefined ? v.number('beta', opts.beta) : FOCAL_LOSS_STAR_DEFAULTS.beta;
  const grad = opts.grad === undefined ? true : v.boolean('grad', opts.grad);
  let out: Float32Array | undefined;
  if (opts.out !== undefined) {
    out = v.float32Array('out', opts.out);
    if (out.length !== logits.length) throw new RangeError(`out: length ${out.length}, expected ${logits.length}`);
    if (out.buffer === logits.buffer && out.byteOffset < logits.byteOffset + logits.byteLength &&
        logits.byteOffset < out.byteOffset + out.byteLength) {
      throw new RangeError('out: must not overlap logits (the logits are an input and stay unchanged)');
    }
  }
  const fg = labelsForeground(labels, numClasses);
  const normalizer = opts.normalizer === undefined
    ? Math.max(1, fg)
    : v.numberIn('normalizer', opts.normalizer, 0, Infinity, true);
  const [loss, g] = native().focalLoss(
    logits, labels, { numClasses, star, useAlpha: alpha !== null, alpha: alpha ?? 0, gamma, beta, normalizer, grad }, out,
    dev === 'cuda',
  );
  return grad ? { loss, grad: g } : { loss };
}

/**
 * Sigmoid focal loss (paper eq. 5) over anchors × classes with sparse labels, and its gradient
 * from the same pass. `logits` `[n, K]` anchor-major, `labels` `[n]`: class 0…K-1, -1 background,
 * -2 ignored. A non-finite logit on a non-ignored anchor is a RangeError.
 */
export function sigmoidFocalLoss(
  logits: Float32Array, labels: Int32Array, numClasses: number, options?: FocalLossOptions,
): LossResult {
  const opts = v.options('options', options, FL_OPTIONS);
  return run(false, logits, labels, numClasses, opts, FOCAL_LOSS_DEFAULTS.gamma);
}

/**
 * FL* (paper appendix, eq. 6–8): per element −α_t · log σ(γ·x_t + β) / γ, gradient α_t·y·(p*_t − 1)
 * (eq. 11). Same layout and rules as {@link sigmoidFocalLoss}.
 */
export function focalLossStar(
  logits: Float32Array, labels: Int32Array, numClasses: number, options?: FocalLossStarOptions,
): LossResult {
  const opts = v.options('options', options, FL_STAR_OPTIONS);
  return run(true, logits, labels, numClasses, opts, FOCAL_LOSS_STAR_DEFAULTS.gamma);
}
