// COCO-style box evaluation (pycocotools semantics) and its PR-curve plot.
export { evaluateCoco } from './coco-eval';
export { formatSummary } from './summarize';
export { prCurveSvg, type PrCurveSvgOptions } from './pr-plot';
export { IOU_THRS, REC_THRS, MAX_DETS, AREA_RNG, AREA_LBL } from './params';
export type {
  BoxXywh, GroundTruth, Detection, CocoEvalOptions, CocoEvalResult, CocoEvalParams, CocoStats,
  CategoryAp, PrCurve, NdArray,
} from './types';
