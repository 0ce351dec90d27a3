// Native convolution, matrix, max-pool, resize, elementwise and sum kernels for tfjs's cpu backend, on by default.
import * as tf from '@tensorflow/tfjs';
import './kernels/conv2d';
import './kernels/conv2d-backprop-input';
import './kernels/conv2d-backprop-filter';
import './kernels/batch-matmul';
import './kernels/max-pool';
import './kernels/resize-nearest';
import './kernels/elementwise';
import './kernels/reduce-sum';
import { useNativeCpuKernels } from './override';

useNativeCpuKernels(true);

export { useNativeCpuKernels, nativeCpuKernels } from './override';

// tfjs's cpu backend prints, on its first tensor in Node, a banner advising to install
// @tensorflow/tfjs-node: wrong advice next to these kernels (and tfjs-node cannot install where
// TensorFlow's servers are unreachable). Each cpu backend instance is marked as used instead of
// silencing every tfjs warning (PROD), which would hide the user's own. The engine makes a new
// instance from the registered factory when it picks a backend, so the factory is wrapped (tfjs
// 4.x engine internals; nothing happens if they differ).
type Quiet = { firstUse?: boolean };
const engine = tf.engine() as unknown as { registryFactory?: Record<string, { factory?: () => unknown }>; registry?: Record<string, Quiet> };
const quiet = (b: unknown): unknown => {
  if (b !== null && typeof b === 'object' && 'firstUse' in b) (b as Quiet).firstUse = false;
  return b;
};
const entry = engine.registryFactory?.cpu;
if (entry && typeof entry.factory === 'function') {
  const make = entry.factory;
  entry.factory = () => quiet(make());
}
quiet(engine.registry?.cpu);
