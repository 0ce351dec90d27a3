// ResizeNearestNeighbor and its gradient (NHWC float32; the FPN's top-down upsampling) on the
// native kernels, with tfjs's index rule and summation order. Half-pixel centres stay tfjs's:
// its gradient kernel ignores them, and the FPN does not use them.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { defineNativeCpuKernel, output, values } from '../override';

interface ResizeAttrs {
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
  size?: [number, number];
}

/** The geometry when the native kernels cover it, else undefined. */
function geometry(input: tf.TensorInfo, outHeight: number, outWidth: number, a: ResizeAttrs): ops.ResizeGeometry | undefined {
  if (input.shape.length !== 4 || a.halfPixelCenters === true) return undefined;
  const [batch, inHeight, inWidth, channels] = input.shape;
  if (inHeight < 1 || inWidth < 1 || ![outHeight, outWidth].every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  return { batch, inHeight, inWidth, channels, outHeight, outWidth, alignCorners: a.alignCorners === true };
}

defineNativeCpuKernel('ResizeNearestNeighbor', ({ inputs, backend, attrs }) => {
  const { images } = inputs;
  const x = values(backend, images);
  const a = attrs as unknown as ResizeAttrs;
  if (!images || !x || !Array.isArray(a.size)) return undefined;
  const g = geometry(images, a.size[0], a.size[1], a);
  if (!g) return undefined;
  return output(backend, [g.batch, g.outHeight, g.outWidth, g.channels], ops.resizeNearest(x, g));
});

defineNativeCpuKernel('ResizeNearestNeighborGrad', ({ inputs, backend, attrs }) => {
  const { images, dy: dyInfo } = inputs;
  const dy = values(backend, dyInfo);
  if (!images || !dyInfo || !dy || dyInfo.shape.length !== 4) return undefined;
  const g = geometry(images, dyInfo.shape[1], dyInfo.shape[2], attrs as unknown as ResizeAttrs);
  if (!g || dyInfo.shape[0] !== g.batch || dyInfo.shape[3] !== g.channels) return undefined;
  return output(backend, images.shape, ops.resizeNearestGrad(dy, g));
});
