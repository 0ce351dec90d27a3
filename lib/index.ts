// tfjs-retinanet: the ops on tf.Tensor (registered as tfjs kernels on import); the typed-array
// ops under `ops` (also `tfjs-retinanet/ops`, which needs no tfjs).
import * as ops from './ops';

export { ops };
export * from './tfjs';
export * from './model';
// The evaluator, datasets, image I/O and drawing (also tfjs-retinanet/eval, /data, /draw).
export { evaluateCoco, formatSummary, prCurveSvg } from './eval';
export type { GroundTruth, Detection, CocoEvalOptions, CocoEvalResult, CocoStats, CategoryAp, PrCurve } from './eval';
export {
  loadCocoDataset, cocoGroundTruth, makeShapesDataset, generateShapesImage, readImage, decodeImage, writePng, encodePng,
  makeBatch, resizeScale, resizeImage, toTensorInput,
} from './data';
export type { CocoDataset, CocoImageEntry, CocoLoadOptions, RgbImage, Batch, BatchItem, BatchOptions } from './data';
export { drawDetections } from './draw';
export type { DrawOptions } from './draw';
export { lineChartSvg } from './plot/line-chart';
export type { LineChartOptions, LineSeries } from './plot/line-chart';
// Types the model's public members refer to (RetinaNet's parts, config values, the loss's and the
// Trainer's option and state types); the classes are exported as types only: RetinaNet builds them.
export type { LossOptions } from './model/retinanet';
export type { ResolvedTrainerOptions, Recovery, TrainerScalars } from './model/trainer';
export type { ResNet } from './model/resnet';
export type { Fpn } from './model/fpn';
export type { Subnet, HeadNorm } from './model/head';
export type { Params, Norm } from './model/params';
