// tfjs-retinanet: the ops (typed arrays) today; the tfjs kernels and the model build on them.
import * as ops from './ops';

export { ops };
export * from './ops';
