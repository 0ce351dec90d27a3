import { native } from '../runtime/addon';
import * as v from './validate';

/**
 * IoU of every box of `a` `[na, 4]` with every box of `b` `[nb, 4]`: `Float32Array [na, nb]`.
 * Area (x2 − x1)·(y2 − y1), no +1; two empty boxes have IoU 0.
 */
export function boxIou(a: Float32Array, b: Float32Array, options?: v.DeviceOptions): Float32Array {
  const dev = v.device(v.options('options', options, []).device);
  const ba = v.boxes('a', a);
  const bb = v.boxes('b', b);
  v.resultSize('boxIou', (ba.length / 4) * (bb.length / 4));
  return native().boxIou(ba, bb, dev === 'cuda');
}
