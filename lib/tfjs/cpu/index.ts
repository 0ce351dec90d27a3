// Native convolution and matrix kernels for tfjs's cpu backend, on by default.
import './conv2d';
import './conv2d-backprop-input';
import './conv2d-backprop-filter';
import './batch-matmul';
import { useNativeCpuKernels } from './override';

useNativeCpuKernels(true);

export { useNativeCpuKernels, nativeCpuKernels } from './override';
