// MaxPool and MaxPoolGrad (NHWC float32, any window, stride and padding) on the native kernels,
// with tfjs's own semantics: the first maximum in row-major window order wins (NaN never does,
// padded cells are skipped), and the gradient goes to that same cell, summed where windows overlap.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { defineNativeCpuKernel, output, values } from '../override';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  dataFormat?: string;
}

const isOne = (d: unknown): boolean => d === undefined || d === 1 || (Array.isArray(d) && d.every((v) => v === 1));

/** The geometry when the native kernels cover it (4-D NHWC, dilation 1), else undefined. */
function geometry(xShape: number[], a: PoolAttrs): ops.Pool2DGeometry | undefined {
  if (xShape.length !== 4 || !isOne(a.dilations) || (a.dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], a.filterSize, a.strides, 1,
      a.pad, a.dimRoundingMode);
  } catch {
    return undefined; // tfjs's own kernel reports the bad attribute
  }
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || !(info.outHeight >= 0 && info.outWidth >= 0)) return undefined;
  if (![info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth].every((n) => Number.isInteger(n) && n >= 1)) {
    return undefined;
  }
  if (!(Number.isInteger(info.padInfo.top) && info.padInfo.top >= 0 && Number.isInteger(info.padInfo.left) && info.padInfo.left >= 0)) {
    return undefined;
  }
  return {
    batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, channels: info.inChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth,
    strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
    outHeight: info.outHeight, outWidth: info.outWidth,
  };
}

defineNativeCpuKernel('MaxPool', ({ inputs, backend, attrs }) => {
  const x = values(backend, inputs.x);
  const g = x && inputs.x && geometry(inputs.x.shape, attrs as unknown as PoolAttrs);
  if (!g || !x) return undefined;
  // A 1x1 window that keeps the shape is tfjs's identity (no copy; NaN passes through): leave it to tfjs.
  if (g.filterHeight === 1 && g.filterWidth === 1 && g.outHeight === g.inHeight && g.outWidth === g.inWidth) return undefined;
  return output(backend, [g.batch, g.outHeight, g.outWidth, g.channels], ops.maxPool(x, g));
});

defineNativeCpuKernel('MaxPoolGrad', ({ inputs, backend, attrs }) => {
  const { input, dy: dyInfo } = inputs;
  const x = values(backend, input);
  const dy = values(backend, dyInfo);
  if (!input || !dyInfo || !x || !dy) return undefined;
  const g = geometry(input.shape, attrs as unknown as PoolAttrs);
  if (!g) return undefined;
  const want = [g.batch, g.outHeight, g.outWidth, g.channels];
  if (dyInfo.shape.length !== 4 || dyInfo.shape.some((d, i) => d !== want[i])) return undefined;
  return output(backend, input.shape, ops.maxPoolGrad(x, dy, g));
});
