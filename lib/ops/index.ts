// tfjs-retinanet/ops: the detector's hot operations on typed arrays; needs no tfjs.
export { sigmoidFocalLoss, focalLossStar } from './focal-loss';
export type { FocalLossOptions, FocalLossStarOptions, LossResult } from './focal-loss';
export { generateAnchors, DEFAULT_LEVELS, DEFAULT_SIZES, DEFAULT_SCALES, DEFAULT_ASPECT_RATIOS } from './anchors';
export type { AnchorOptions, AnchorLevel, Anchors } from './anchors';
export { boxIou } from './box-iou';
export { encodeBoxes, decodeBoxes } from './box-coding';
export type { EncodeOptions, DecodeOptions } from './box-coding';
export { matchAnchors, matchAnchorsBatch } from './match';
export type { MatchOptions, Matches } from './match';
export { retinanetTargets, retinanetTargetsBatch } from './targets';
export type { TargetOptions, Targets, BatchTargets } from './targets';
export { nms, batchedNms, nmsAsync, batchedNmsAsync } from './nms';
export type { NmsOptions } from './nms';
export { postprocess, postprocessAsync } from './postprocess';
export type { LevelOutput, PostprocessOptions, Detections } from './postprocess';
export { numThreads, setNumThreads, devices, cudaInfo, fmaPeakGflops, cpuIsa, CPU_ISAS, retainFreedMemory, relaxGarbageCollection, setInferencePrecision, inferencePrecision } from '../runtime';
export type { CudaInfo, CpuIsa, InferencePrecision } from '../runtime';
// The tfjs accelerator's own calls (lib/accel/ops), kept here for code that imported them from
// this path (deprecated in docs/ops.md; a tag on `export *` would not reach the names): they are
// the accelerator's internals, not detection ops.
export * from '../accel/ops';
export type { Device, DeviceOptions } from './validate';
export { MAX_ELEMENTS } from './validate';
