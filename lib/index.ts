// tfjs-retinanet: the ops on tf.Tensor (registered as tfjs kernels on import); the typed-array
// ops under `ops` (also `tfjs-retinanet/ops`, which needs no tfjs).
import * as ops from './ops';

export { ops };
export * from './tfjs';
export * from './model';
