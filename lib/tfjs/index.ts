// The ops as TensorFlow.js kernels (registered on import for the 'cpu' backend and, when
// tfjs-node is installed, 'tensorflow'), with tensor-in, tensor-out functions.
export { sigmoidFocalLoss, focalLossStar, SIGMOID_FOCAL_LOSS, FOCAL_LOSS_STAR } from './focal-loss';
export type { TensorFocalLossOptions } from './focal-loss';
export { generateAnchors, GENERATE_ANCHORS } from './anchors';
export type { TensorAnchors } from './anchors';
export { boxIou, BOX_IOU } from './box-iou';
export { encodeBoxes, decodeBoxes, ENCODE_BOXES, DECODE_BOXES } from './box-coding';
export { matchAnchors, MATCH_ANCHORS } from './match';
export type { TensorMatches } from './match';
export { retinanetTargets, RETINANET_TARGETS } from './targets';
export type { TensorTargets } from './targets';
export { nms, batchedNms, BATCHED_NMS } from './nms';
export { postprocess, POSTPROCESS } from './postprocess';
export type { TensorLevelOutput, TensorDetections } from './postprocess';
export { groupNorm, GROUP_NORM, GROUP_NORM_GRAD } from '../accel/group-norm';
export { conv2dBiasAct, reluFast, RELU_GRAD, CONV2D_RESIDUAL } from '../accel/conv2d-bias-act';
export type { Conv2dBiasActArgs, ConvPadding } from '../accel/conv2d-bias-act';
export { conv2dLevels, CONV2D_LEVELS } from '../accel/conv2d-levels';
export type { Conv2dLevelsArgs } from '../accel/conv2d-levels';
export { KERNEL_BACKENDS } from './kernel';
export { useEarlyRelease, earlyRelease } from './release';
export { leanVariableGrads } from './lean-gradients';
export { useNativeCpuKernels, nativeCpuKernels } from '../accel';
