// The focal losses written with plain tfjs ops, as a careful tfjs user would: a one-hot target,
// log-sigmoid for stability, the gradient from tf.grad. Test oracle and benchmark baseline.
import * as tf from '@tensorflow/tfjs';
import { FOCAL_LOSS_DEFAULTS, FOCAL_LOSS_STAR_DEFAULTS } from '../ops/focal-loss';

/** α, γ, β (FL* only) and the normalizer of the reference losses; defaults as the native ops'. */
export interface ReferenceLossOptions {
  alpha?: number | null;
  gamma?: number;
  beta?: number;
  normalizer?: number;
}

function terms(labels: tf.Tensor, k: number) {
  const target = tf.oneHot(tf.maximum(labels, tf.scalar(0, 'int32')) as tf.Tensor1D, k).mul(tf.greaterEqual(labels, 0).expandDims(-1));
  const valid = tf.notEqual(labels, -2).expandDims(-1).cast('float32');
  const fg = tf.greaterEqual(labels, 0).sum();
  return { target: target.cast('float32'), valid, fg };
}

// log σ(z) = −softplus(−z). (tf.logSigmoid is a customGrad op whose gradient fails when it runs
// inside tf.tidy inside tf.grad in tfjs 4.22, so the twins avoid it.)
function logSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.softplus(z.neg()).neg();
}

/** α_t: α on the target class, 1 − α elsewhere; 1 everywhere when α is null. */
function alphaT(target: tf.Tensor, alpha: number | null): tf.Tensor {
  return alpha === null ? tf.onesLike(target) : target.mul(alpha).add(tf.scalar(1).sub(target).mul(1 - alpha));
}

function normalize(sum: tf.Tensor, fg: tf.Tensor, normalizer?: number): tf.Scalar {
  return (normalizer === undefined ? sum.div(tf.maximum(fg, 1).cast('float32')) : sum.div(normalizer)) as tf.Scalar;
}

/** Eq. 5 summed over non-ignored anchors, divided by the normalizer. Differentiable by tf.grad. */
export function sigmoidFocalLossRef(logits: tf.Tensor, labels: tf.Tensor, o: ReferenceLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[logits.rank - 1];
    const { target, valid, fg } = terms(labels, k);
    const alpha = o.alpha === undefined ? FOCAL_LOSS_DEFAULTS.alpha : o.alpha;
    const gamma = o.gamma ?? FOCAL_LOSS_DEFAULTS.gamma;
    const y = target.mul(2).sub(1); // +1 target class, -1 others
    const logpt = logSigmoid(logits.mul(y));
    const q = tf.sigmoid(logits.mul(y).neg()); // 1 - p_t
    const mod = gamma === 0 ? tf.onesLike(q) : q.pow(gamma);
    const at = alphaT(target, alpha);
    return normalize(at.mul(mod).mul(logpt).neg().mul(valid).sum(), fg, o.normalizer);
  });
}

/** FL* (eq. 6–8) with α_t, the same way. */
export function focalLossStarRef(logits: tf.Tensor, labels: tf.Tensor, o: ReferenceLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[logits.rank - 1];
    const { target, valid, fg } = terms(labels, k);
    const alpha = o.alpha === undefined ? FOCAL_LOSS_STAR_DEFAULTS.alpha : o.alpha;
    const gamma = o.gamma ?? FOCAL_LOSS_STAR_DEFAULTS.gamma;
    const y = target.mul(2).sub(1);
    const z = logits.mul(y).mul(gamma).add(o.beta ?? FOCAL_LOSS_STAR_DEFAULTS.beta);
    const at = alphaT(target, alpha);
    return normalize(at.mul(logSigmoid(z)).neg().div(gamma).mul(valid).sum(), fg, o.normalizer);
  });
}
