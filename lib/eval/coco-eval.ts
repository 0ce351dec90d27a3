// COCO box AP with pycocotools' COCOeval semantics (evaluate → accumulate → summarize), on
// plain objects instead of COCO json files. Same parameters, same matching, same interpolation,
// same means: the stats agree with pycocotools to the last bit on the cases checked by
// tools/coco-eval-check.js.

import { accumulate } from './accumulate';
import { evaluateImages } from './evaluate-images';
import { AREA_LBL, AREA_RNG, IOU_THRS, MAX_DETS, REC_THRS, iouIndex } from './params';
import { computeStats, meanDefined } from './summarize';
import type { CategoryAp, CocoEvalOptions, CocoEvalResult, Detection, GroundTruth, NdArray, PrCurve } from './types';
import { idList, optionsRecord, packDetections, packGroundTruth } from './validate';

const ALL = AREA_LBL.indexOf('all');
const M100 = MAX_DETS.indexOf(100);

/**
 * Evaluates detections against ground truth as pycocotools'
 * `COCOeval(gt, dt, 'bbox').evaluate(); .accumulate(); .summarize()` does.
 *
 * Inputs are checked first (TypeError / RangeError naming the entry) and only read.
 * Runs in O(entries · log entries) plus matching per image and category.
 */
export function evaluateCoco(
  groundTruth: readonly GroundTruth[],
  detections: readonly Detection[],
  options?: CocoEvalOptions,
): CocoEvalResult {
  const gts = packGroundTruth(groundTruth);
  const dets = packDetections(detections);
  const opts = optionsRecord(options);
  const imageIds = idList('options.imageIds', opts.imageIds, gts.imageId, dets.imageId);
  const categoryIds = idList('options.categoryIds', opts.categoryIds, gts.categoryId, dets.categoryId);

  const K = categoryIds.length;
  const T = IOU_THRS.length;
  const R = REC_THRS.length;
  const A = AREA_RNG.length;
  const M = MAX_DETS.length;
  const ev = evaluateImages(gts, dets, imageIds, categoryIds, IOU_THRS, AREA_RNG, MAX_DETS[M - 1]);
  const acc = accumulate(ev, K, T, A, REC_THRS, MAX_DETS);
  const precision: NdArray = { data: acc.precision, dims: [T, R, K, A, M] };
  const recall: NdArray = { data: acc.recall, dims: [T, K, A, M] };
  const scores: NdArray = { data: acc.scores, dims: [T, R, K, A, M] };

  const t50 = iouIndex(0.5);
  const t75 = iouIndex(0.75);
  const perCategory: CategoryAp[] = categoryIds.map((categoryId, k) => ({
    categoryId,
    ap: meanDefined(precision, [undefined, undefined, k, ALL, M100]),
    ap50: meanDefined(precision, [t50, undefined, k, ALL, M100]),
    ap75: meanDefined(precision, [t75, undefined, k, ALL, M100]),
    numGroundTruth: ev.npig[k * A + ALL],
    numDetections: ev.catStart[k + 1] - ev.catStart[k],
  }));

  const prCurve: PrCurve = {
    recall: REC_THRS,
    curves: [0.5, 0.75].map((iouThreshold) => {
      const t = iouIndex(iouThreshold);
      return {
        iouThreshold,
        precision: REC_THRS.map((_, r) => meanDefined(precision, [t, r, undefined, ALL, M100])),
      };
    }),
  };

  return {
    stats: computeStats(precision, recall),
    precision,
    recall,
    scores,
    categoryIds,
    perCategory,
    prCurve,
    params: {
      imageIds, categoryIds, iouThrs: IOU_THRS, recThrs: REC_THRS, maxDets: MAX_DETS,
      areaRng: AREA_RNG, areaRngLbl: AREA_LBL,
    },
  };
}
