// tfjs's own convolution geometry (padding modes, rounding) mapped to the native kernels'.
import * as tf from '@tensorflow/tfjs';
import { Conv2DGeometry } from '../ops/conv2d';
import { InferencePrecision, inferencePrecision } from '../../runtime/cpu-isa';

export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The geometry when the native kernels cover it (NHWC, dilation 1), else undefined. */
export function nativeGeometry(xShape: number[], filterShape: number[], a: ConvAttrs): Conv2DGeometry | undefined {
  if ((a.dataFormat ?? 'NHWC') !== 'NHWC' || xShape.length !== 4 || filterShape.length !== 4) return undefined;
  const dil = a.dilations ?? 1;
  if ((Array.isArray(dil) ? dil[0] !== 1 || dil[1] !== 1 : dil !== 1)) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  return {
    batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth, outChannels: info.outChannels,
    strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
    outHeight: info.outHeight, outWidth: info.outWidth,
  };
}

export function outShape(g: Conv2DGeometry): number[] {
  return [g.batch, g.outHeight, g.outWidth, g.outChannels];
}

/**
 * The precision of a forward convolution now: float32 while a gradient is being recorded (a
 * training step's forward, tf.grad), else the inference precision (ops.setInferencePrecision).
 */
export function forwardPrecision(): InferencePrecision {
  return inTraining() ? 'float32' : inferencePrecision();
}

/** Whether a forward convolution runs for a training step (under a gradient tape). */
export function inTraining(): boolean {
  return tf.engine().state.gradientDepth > 0;
}
