import { MATCH_OPTIONS, matchOptions, MatchOptions } from './match';
import { native } from '../runtime/addon';
import * as v from './validate';

export interface TargetOptions extends MatchOptions {
  /** Box-coder weights (wx, wy, ww, wh). Default [1, 1, 1, 1]. */
  weights?: ArrayLike<number>;
  /** When given, every ground-truth label must be below it. */
  numClasses?: number;
}

/** One image's training targets from {@link retinanetTargets}, one entry per anchor. */
export interface Targets {
  /** `[n]`: class of the matched box for foreground anchors, -1 background, -2 ignored. */
  labels: Int32Array;
  /** `[n, 4]`: encoded matched box for foreground anchors, 0 elsewhere. */
  boxTargets: Float32Array;
  /** `[n]`: as {@link matchAnchors}. */
  matches: Int32Array;
  /** Foreground anchors (the focal loss's default normalizer). */
  numForeground: number;
}

/** {@link retinanetTargetsBatch}'s targets: each image's, concatenated (`[B·n]`, `[B·n, 4]`). */
export interface BatchTargets extends Targets {
  /** Foreground anchors of each image. */
  numForegroundPerImage: number[];
}

const KNOWN = [...MATCH_OPTIONS, 'weights', 'numClasses'] as const;

function gtLabelsChecked(name: string, value: unknown, count: number, numClasses: number): Int32Array {
  const labels = v.int32Array(name, value);
  if (labels.length !== count) {
    throw new RangeError(`${name}: length ${labels.length}, expected one label per box (${count})`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= numClasses) {
      throw new RangeError(`${name}: ${name}[${i}] = ${labels[i]}, expected 0…${numClasses - 1}`);
    }
  }
  return labels;
}

/** Targets for a batch of images sharing `anchors`: results concatenated per image, `[B·n]`. */
export function retinanetTargetsBatch(
  anchors: Float32Array, gtBoxes: Float32Array[], gtLabels: Int32Array[], options?: TargetOptions,
): BatchTargets {
  const o = v.options('options', options, KNOWN);
  const p = matchOptions(o);
  const w = v.weights('weights', o.weights);
  const numClasses = o.numClasses === undefined ? 2 ** 31 - 1 : v.integer('numClasses', o.numClasses, 1);
  const a = v.properBoxes('anchors', anchors);
  const boxes = v.array('gtBoxes', gtBoxes).map((g, i) => v.boxes(`gtBoxes[${i}]`, g));
  const labelList = v.array('gtLabels', gtLabels);
  if (labelList.length !== boxes.length) {
    throw new RangeError(`gtLabels: ${labelList.length} images, gtBoxes has ${boxes.length}`);
  }
  const labelsChecked = labelList.map((l, i) => gtLabelsChecked(`gtLabels[${i}]`, l, boxes[i].length / 4, numClasses));
  v.resultSize('retinanetTargets', (a.length / 4) * boxes.length * 4);
  const [labels, boxTargets, matches, fg] = native().retinanetTargets(a, boxes, labelsChecked, { ...p, weights: w }, p.cuda);
  const numForegroundPerImage = Array.from(fg);
  const numForeground = numForegroundPerImage.reduce((s, x) => s + x, 0);
  return { labels, boxTargets, matches, numForeground, numForegroundPerImage };
}

/** Match, label and encode in one call: the classification and box targets of one image. */
export function retinanetTargets(
  anchors: Float32Array, gtBoxes: Float32Array, gtLabels: Int32Array, options?: TargetOptions,
): Targets {
  const { labels, boxTargets, matches, numForeground } = retinanetTargetsBatch(anchors, [gtBoxes], [gtLabels], options);
  return { labels, boxTargets, matches, numForeground };
}
