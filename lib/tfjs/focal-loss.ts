// sigmoidFocalLoss / focalLossStar on tensors: one kernel computes the loss and its gradient in a
// single native pass; the registered gradient returns that saved gradient times dy, so a
// training step calls the native loss once.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { kernelOptions, optionsAttr, registerRetinanetKernel, runKernel, tapeOn, tensorArg } from './kernel';

export const SIGMOID_FOCAL_LOSS = 'RetinanetSigmoidFocalLoss';
export const FOCAL_LOSS_STAR = 'RetinanetFocalLossStar';

/** Options of the tensor {@link sigmoidFocalLoss} and {@link focalLossStar} (`beta`: FL* only). */
export interface TensorFocalLossOptions {
  /** Weight of the target-class terms; `null` turns α-balancing off. Default 0.25. */
  alpha?: number | null;
  /** γ. Default 2 (FL) or 4 (FL*). */
  gamma?: number;
  /** FL* only: β. Default 0. */
  beta?: number;
  /** Divides the loss. Default: number of foreground anchors (labels ≥ 0), at least 1. */
  normalizer?: number;
}

for (const [name, star] of [[SIGMOID_FOCAL_LOSS, false], [FOCAL_LOSS_STAR, true]] as const) {
  registerRetinanetKernel(name, (ctx) => {
    const shape = ctx.shape('logits');
    const k = shape[shape.length - 1];
    const options: ops.FocalLossStarOptions = { ...kernelOptions<TensorFocalLossOptions>(ctx), grad: ctx.attrs.grad as boolean };
    const logits = ctx.input('logits', 'float32') as Float32Array;
    const labels = ctx.input('labels', 'int32') as Int32Array;
    const r = star ? ops.focalLossStar(logits, labels, k, options) : ops.sigmoidFocalLoss(logits, labels, k, options);
    return [
      ctx.output([], 'float32', new Float32Array([r.loss])),
      ctx.output(r.grad ? shape : [0], 'float32', r.grad ?? new Float32Array(0)),
    ];
  });
  tf.registerGradient({
    kernelName: name,
    outputsToSave: [false, true],
    gradFunc: (dy, saved) => {
      const [grad] = saved;
      const dLoss = Array.isArray(dy) ? dy[0] : dy;
      return {
        // d total / d loss is 1 whenever the loss enters the total unscaled (the usual case):
        // then hand back the saved gradient itself (a reference, not a copy) instead of
        // multiplying n·K values in JavaScript.
        logits: () => (dLoss.size === 1 && dLoss.dataSync()[0] === 1 ? tf.clone(grad) : tf.mul(grad, dLoss)),
        labels: () => tf.zeros(grad.shape.slice(0, -1)),
      };
    },
  });
}

function run(kernel: string, logitsArg: tf.Tensor, labelsArg: tf.Tensor, o: TensorFocalLossOptions, star: boolean): tf.Scalar {
  const logits = tensorArg('logits', logitsArg, 'float32');
  const labels = tensorArg('labels', labelsArg, 'int32');
  if (logits.rank < 2 || labels.rank !== logits.rank - 1 || labels.shape.some((d, i) => d !== logits.shape[i])) {
    throw new RangeError(`labels: shape [${labels.shape}] must be logits' shape [${logits.shape}] without its last (class) axis`);
  }
  // The typed-array op checks the options and fills in defaults; here only the tensor API's own
  // surface: the op's other options (grad, out, device) are not a tensor caller's to set.
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError('options: expected an options object');
  for (const key of Object.keys(o)) {
    if (!['alpha', 'gamma', 'beta', 'normalizer'].includes(key) || (key === 'beta' && !star)) {
      throw new TypeError(`options: unknown option '${key}'`);
    }
  }
  // Outside a gradient tape the gradient is not needed: skip writing it.
  const [loss, g] = runKernel<tf.Tensor[]>(kernel, { logits, labels }, { options: optionsAttr(o), grad: tapeOn() });
  // The tape keeps its own copy of the gradient; the caller only sees the loss.
  g.dispose();
  return loss as tf.Scalar;
}

/**
 * Sigmoid focal loss (paper eq. 5) on tensors: `logits` `[..., K]` float32, `labels` int32 with
 * logits' shape less the class axis (class, -1 background, -2 ignored). Differentiable with
 * respect to `logits` through tf.grad, variableGrads and optimizers; returns a scalar.
 */
export function sigmoidFocalLoss(logits: tf.Tensor, labels: tf.Tensor, options: TensorFocalLossOptions = {}): tf.Scalar {
  return run(SIGMOID_FOCAL_LOSS, logits, labels, options, false);
}

/** FL* (appendix eq. 6–8) on tensors, differentiable like {@link sigmoidFocalLoss}. */
export function focalLossStar(logits: tf.Tensor, labels: tf.Tensor, options: TensorFocalLossOptions = {}): tf.Scalar {
  return run(FOCAL_LOSS_STAR, logits, labels, options, true);
}
