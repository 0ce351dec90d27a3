// Where the ops can run: the CPU always, CUDA where this build and a GPU allow.
import { native } from './addon';
import type { Device } from '../ops/validate';

/**
 * Devices the ops can run on here: always 'cpu', and 'cuda' where this build has the CUDA kernels and
 * cudaGetDeviceCount finds a GPU that runs them (asked once; an error there means no 'cuda').
 */
export function devices(): Device[] {
  return native().devices() as Device[];
}

/** Why 'cuda' is or is not in {@link devices}: this build's CUDA kernels, the devices found, CUDA's message. */
export interface CudaInfo {
  /** The addon was compiled with the CUDA kernels (nvcc was found when it was built). */
  built: boolean;
  /** cudaGetDeviceCount's answer; 0 without a driver or GPU. */
  devices: number;
  /** CUDA's message when there is no usable device; empty otherwise. */
  error: string;
}

/** This build's and this machine's CUDA state: the check behind {@link devices} (made once, at the first call). */
export function cudaInfo(): CudaInfo {
  return native().cudaInfo();
}
