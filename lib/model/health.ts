// Whether a finished training run learned anything: a run can end "successfully" with a detector
// that predicts nothing (the loss blew up, the class logits fell far below the prior, and the loss
// sat back at the prior's level). Both signs are checked so that such a run never reports success.
import * as tf from '@tensorflow/tfjs';
import { RetinaNet } from './retinanet';

export interface HealthReport {
  /** False when the run collapsed or never learned; `reasons` says how. */
  ok: boolean;
  /** False for runs shorter than MIN_JUDGED_ITERATIONS (then `ok` is true: too short to judge). */
  judged: boolean;
  reasons: string[];
  /** Mean classification loss of the first iterations (at the prior: the model has not moved yet). */
  startLoss: number;
  /** Mean classification loss of the last 10 % of the iterations (at least 5). */
  endLoss: number;
  /** Best detection score on the sample images. */
  maxScore: number;
}

/** The end loss above this fraction of the start loss: the class subnet is back at (or never left) the prior. */
export const COLLAPSED_LOSS_RATIO = 0.8;
/** Runs of fewer iterations are too short to judge (a test's 4-iteration run has learned nothing yet). */
export const MIN_JUDGED_ITERATIONS = 50;

/**
 * Judges a run from its classification losses (every iteration from the first, in order; best
 * normalized by each batch's own foreground count, so that they are comparable) and the
 * model's detections on a few of its training images (`images` with each image's unpadded size).
 */
export function trainingHealth(model: RetinaNet, classificationLosses: readonly number[], images: tf.Tensor4D,
  imageSizes: [number, number][], scoreThreshold = 0.05): HealthReport {
  const n = classificationLosses.length;
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const startLoss = mean(classificationLosses.slice(0, Math.min(5, n)));
  const endLoss = mean(classificationLosses.slice(n - Math.max(5, Math.floor(n / 10))));
  const dets = model.detect(images, { imageSizes, scoreThreshold: 0, maxDetections: 1 });
  const maxScore = Math.max(0, ...dets.map((d) => (d.scores.length > 0 ? d.scores[0] : 0)));
  const judged = n >= MIN_JUDGED_ITERATIONS;
  const reasons: string[] = [];
  if (!judged) return { ok: true, judged, reasons, startLoss, endLoss, maxScore };
  if (!(endLoss < COLLAPSED_LOSS_RATIO * startLoss)) {
    reasons.push(`the classification loss ended at ${endLoss.toFixed(3)}, ${(100 * endLoss / startLoss).toFixed(0)} % of where it started (${startLoss.toFixed(3)}, the prior's level)`);
  }
  if (!(maxScore >= scoreThreshold)) {
    reasons.push(`no detection on ${imageSizes.length} training images scores above ${scoreThreshold} (best ${maxScore.toPrecision(2)})`);
  }
  return { ok: reasons.length === 0, judged, reasons, startLoss, endLoss, maxScore };
}
