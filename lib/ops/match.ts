import { native } from '../runtime/addon';
import * as v from './validate';

export interface MatchOptions extends v.DeviceOptions {
  /** IoU ≥ fgIou is foreground. Default 0.5. */
  fgIou?: number;
  /** IoU < bgIou is background; between the two is ignored. Default 0.4. */
  bgIou?: number;
  /** Give each ground-truth box the anchors tied at its best IoU (torchvision's Matcher). Default true. */
  allowLowQuality?: boolean;
}

/** What {@link matchAnchors} returns, one entry per anchor. */
export interface Matches {
  /** `[n]`: j ≥ 0 matched ground truth, -1 background, -2 ignored (between thresholds). */
  matches: Int32Array;
  /** `[n]`: each anchor's best IoU over the ground truth (0 when there is none). */
  maxIou: Float32Array;
}

export const MATCH_OPTIONS = ['fgIou', 'bgIou', 'allowLowQuality'] as const;

export interface CheckedMatchOptions {
  fgIou: number;
  bgIou: number;
  allowLowQuality: boolean;
  /** Run on the CUDA device. */
  cuda: boolean;
}

export function matchOptions(o: Partial<Record<string, unknown>>): CheckedMatchOptions {
  const dev = v.device(o.device);
  const fgIou = o.fgIou === undefined ? 0.5 : v.numberIn('fgIou', o.fgIou, 0, 1, true);
  const bgIou = o.bgIou === undefined ? 0.4 : v.numberIn('bgIou', o.bgIou, 0, 1);
  if (bgIou > fgIou) throw new RangeError(`bgIou: ${bgIou} is above fgIou ${fgIou}`);
  const allowLowQuality = o.allowLowQuality === undefined ? true : v.boolean('allowLowQuality', o.allowLowQuality);
  return { fgIou, bgIou, allowLowQuality, cuda: dev === 'cuda' };
}

/**
 * Matches anchors `[n, 4]` to ground-truth boxes `[m, 4]` (torchvision `Matcher` semantics,
 * ties to the lower index) without building the n × m IoU matrix.
 */
export function matchAnchors(anchors: Float32Array, gtBoxes: Float32Array, options?: MatchOptions): Matches {
  const p = matchOptions(v.options('options', options, MATCH_OPTIONS));
  const a = v.boxes('anchors', anchors);
  const gt = v.boxes('gtBoxes', gtBoxes);
  const [matches, maxIou] = native().matchAnchors(a, gt, p, p.cuda);
  return { matches, maxIou };
}

/**
 * {@link matchAnchors} for a batch of images sharing the anchors, with ragged ground truth:
 * results concatenated per image, `[B·n]` (on CUDA, all images in one launch per pass).
 */
export function matchAnchorsBatch(anchors: Float32Array, gtBoxes: Float32Array[], options?: MatchOptions): Matches {
  const p = matchOptions(v.options('options', options, MATCH_OPTIONS));
  const a = v.boxes('anchors', anchors);
  const list = v.array('gtBoxes', gtBoxes).map((g, i) => v.boxes(`gtBoxes[${i}]`, g));
  const n = a.length / 4;
  v.resultSize('matchAnchorsBatch', n * list.length);
  const [matches, maxIou] = native().matchAnchorsBatch(a, list, p, p.cuda);
  return { matches, maxIou };
}
