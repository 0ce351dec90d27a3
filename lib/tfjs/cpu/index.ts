// Native convolution, matrix, max-pool, elementwise and sum kernels for tfjs's cpu backend, on by default.
import './conv2d';
import './conv2d-backprop-input';
import './conv2d-backprop-filter';
import './batch-matmul';
import './max-pool';
import './elementwise';
import './reduce-sum';
import { useNativeCpuKernels } from './override';

useNativeCpuKernels(true);

export { useNativeCpuKernels, nativeCpuKernels } from './override';
