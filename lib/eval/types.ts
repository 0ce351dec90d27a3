// Public shapes of the COCO box evaluator. Boxes are COCO `[x, y, width, height]` in pixels
// (not the `x1, y1, x2, y2` of the ops): evaluation reads annotation files and result files as
// COCO writes them.

/** COCO `[x, y, width, height]`. */
export type BoxXywh = readonly [number, number, number, number];

/** One ground-truth object (a COCO annotation). */
export interface GroundTruth {
  imageId: number;
  categoryId: number;
  bbox: BoxXywh;
  /**
   * Area used for the small / medium / large split. Default `w * h`; COCO's annotations carry
   * the segmentation's area, which pycocotools uses even for box AP, so pass it when known.
   */
  area?: number;
  /** Crowd region: never a false negative, and detections inside it are not false positives. */
  iscrowd?: boolean | 0 | 1;
  /** Annotation id; checked and kept for your bookkeeping, not used by the matching. */
  id?: number;
}

/** One detection (a COCO result entry). */
export interface Detection {
  imageId: number;
  categoryId: number;
  bbox: BoxXywh;
  score: number;
}

/** Options of {@link evaluateCoco}: the images and categories to evaluate. */
export interface CocoEvalOptions {
  /**
   * Images to evaluate (pycocotools' `params.imgIds`). Default: every image id found in the
   * ground truth or the detections, so an image whose only entries are detections still counts
   * them as false positives. Entries of other images are left out.
   */
  imageIds?: readonly number[];
  /**
   * Categories to evaluate (`params.catIds`). Default: every category id found in the ground
   * truth or the detections; a category with no ground truth gets -1 and leaves the means alone.
   * Entries of other categories are left out.
   */
  categoryIds?: readonly number[];
}

/** A dense row-major (C-order) array, as numpy would hold it. */
export interface NdArray {
  data: Float64Array;
  dims: readonly number[];
}

/**
 * The 12 summary numbers, in pycocotools order:
 * AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; -1 where undefined.
 */
export type CocoStats = readonly [
  number, number, number, number, number, number,
  number, number, number, number, number, number,
];

/** AP of one category (area all, 100 detections per image); -1 when it has no ground truth. */
export interface CategoryAp {
  categoryId: number;
  /** AP averaged over IoU 0.50:0.95. */
  ap: number;
  /** AP at IoU 0.50. */
  ap50: number;
  /** AP at IoU 0.75. */
  ap75: number;
  /** Non-ignored ground truth (not crowd) of this category. */
  numGroundTruth: number;
  /** Detections of this category kept for evaluation (best 100 per image). */
  numDetections: number;
}

/** Interpolated precision at the 101 recall points, one curve per IoU threshold. */
export interface PrCurve {
  /** The recall points 0, 0.01, …, 1 (pycocotools' `recThrs`). */
  recall: readonly number[];
  /**
   * Per IoU threshold (0.5 and 0.75): precision at each recall point, area all, 100 detections,
   * averaged over the categories that have ground truth; -1 where no category has any.
   */
  curves: readonly { iouThreshold: number; precision: readonly number[] }[];
}

/** pycocotools' `Params` for box evaluation. */
export interface CocoEvalParams {
  imageIds: readonly number[];
  categoryIds: readonly number[];
  iouThrs: readonly number[];
  recThrs: readonly number[];
  maxDets: readonly number[];
  areaRng: readonly (readonly [number, number])[];
  areaRngLbl: readonly string[];
}

/** What {@link evaluateCoco} returns: the 12 summary numbers, pycocotools' accumulated arrays, per-category AP and the PR curves. */
export interface CocoEvalResult {
  stats: CocoStats;
  /** `[T=10, R=101, K, A=4, M=3]`, -1 for categories without ground truth (`eval['precision']`). */
  precision: NdArray;
  /** `[T, K, A, M]`: the recall reached with all kept detections (`eval['recall']`). */
  recall: NdArray;
  /** `[T, R, K, A, M]`: the detection score at each recall point (`eval['scores']`). */
  scores: NdArray;
  /** The K evaluated categories, in the order of the K axis (ascending). */
  categoryIds: readonly number[];
  perCategory: readonly CategoryAp[];
  prCurve: PrCurve;
  params: CocoEvalParams;
}
