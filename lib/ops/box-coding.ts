import { native } from '../runtime/addon';
import * as v from './validate';

export interface EncodeOptions extends v.DeviceOptions {
  /** (wx, wy, ww, wh) multiplying (dx, dy, dw, dh). Default [1, 1, 1, 1]. */
  weights?: ArrayLike<number>;
}

export interface DecodeOptions extends EncodeOptions {
  /** `[height, width]`: clamp the decoded boxes to the image. */
  clip?: [number, number];
}

/**
 * R-CNN deltas `(dx, dy, dw, dh)` of `boxes` relative to `anchors` (both `[n, 4]`, positive
 * width and height), as torchvision's BoxCoder.encode.
 */
export function encodeBoxes(anchors: Float32Array, boxes: Float32Array, options?: EncodeOptions): Float32Array {
  const o = v.options('options', options, ['weights']);
  const dev = v.device(o.device);
  const a = v.properBoxes('anchors', anchors);
  const b = v.properBoxes('boxes', boxes);
  if (a.length !== b.length) throw new RangeError(`boxes: length ${b.length}, expected anchors' length ${a.length}`);
  return native().encodeBoxes(a, b, { weights: v.weights('weights', o.weights) }, dev === 'cuda');
}

/**
 * Boxes from R-CNN deltas `[n, 4]` applied to `anchors` `[n, 4]`, as torchvision's
 * BoxCoder.decode: dw, dh clamped at log(1000 / 16); optionally clipped to the image.
 */
export function decodeBoxes(anchors: Float32Array, deltas: Float32Array, options?: DecodeOptions): Float32Array {
  const o = v.options('options', options, ['weights', 'clip']);
  const dev = v.device(o.device);
  const a = v.properBoxes('anchors', anchors);
  const d = v.finiteValues('deltas', v.float32Array('deltas', deltas, 4));
  if (a.length !== d.length) throw new RangeError(`deltas: length ${d.length}, expected anchors' length ${a.length}`);
  let clipH = 0;
  let clipW = 0;
  if (o.clip !== undefined) {
    const c = v.array('clip', o.clip);
    if (c.length !== 2) throw new RangeError(`clip: expected [height, width], got ${c.length} values`);
    clipH = v.numberIn('clip[0]', c[0], 0, Infinity, true);
    clipW = v.numberIn('clip[1]', c[1], 0, Infinity, true);
  }
  return native().decodeBoxes(a, d, { weights: v.weights('weights', o.weights), clipHeight: clipH, clipWidth: clipW }, dev === 'cuda');
}
