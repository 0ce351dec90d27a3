// The accelerator's native calls on typed arrays (what its tfjs kernels run): convolutions and
// matmul over the packed GEMM, GroupNorm, max pooling, nearest-neighbour resizing, elementwise,
// sums, the SGD update.
export { conv2d, conv2dLevels, conv2dBackpropInput, conv2dBackpropFilter, batchMatMul } from './conv2d';
export type { Conv2DGeometry, ConvEpilogue, ActivationName, MatMulShape } from './conv2d';
export { groupNorm, groupNormBackward } from './group-norm';
export type { NhwcShape, GroupNormOptions, GroupNormResult, GroupNormGrads } from './group-norm';
export { maxPool, maxPoolGrad } from './max-pool';
export type { Pool2DGeometry } from './max-pool';
export { resizeNearest, resizeNearestGrad, nearestSources } from './resize-nearest';
export type { ResizeGeometry } from './resize-nearest';
export { binaryOp, unaryOp, broadcastShape } from './elementwise';
export type { BinaryOpName, UnaryOpName } from './elementwise';
export { reduceSum, reduceSumGeometry } from './reduce-sum';
export type { ReduceSumGeometry } from './reduce-sum';
export { sgdMomentumUpdate, sumOfSquares } from './sgd';
export type { SgdOptions, SgdOutputs } from './sgd';
