// The ops written with plain tfjs ops: the tests' oracles, the benchmark's baseline, and GroupNorm's fallback on backends without the native kernel.
export { sigmoidFocalLossRef, focalLossStarRef } from './focal-loss';
export type { ReferenceLossOptions } from './focal-loss';
export { boxIouRef, encodeBoxesRef, decodeBoxesRef, generateAnchorsRef } from './boxes';
export { matchAnchorsRef, retinanetTargetsRef } from './match';
export type { ReferenceMatchOptions } from './match';
export { batchedNmsRef, postprocessRef } from './nms';
export type { ReferenceLevel } from './nms';
export { groupNormRef } from './group-norm';
