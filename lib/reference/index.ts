// The ops written with plain tfjs ops: the tests' oracles and the benchmark's baseline.
export { sigmoidFocalLossRef, focalLossStarRef } from './focal-loss';
export type { ReferenceLossOptions } from './focal-loss';
export { boxIouRef, encodeBoxesRef, decodeBoxesRef, generateAnchorsRef } from './boxes';
export { matchAnchorsRef, retinanetTargetsRef } from './match';
export type { ReferenceMatchOptions } from './match';
export { batchedNmsRef, postprocessRef } from './nms';
export type { ReferenceLevel } from './nms';
export { groupNormRef } from './group-norm';
