// Argument checks shared by lib/data and lib/draw: a bad argument is a TypeError or RangeError
// that names it, raised before any work is done.
import type { RgbImage } from './image';

export function checkPositiveInt(name: string, v: unknown, max = 1 << 30): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  }
  if (v < 1 || v > max) throw new RangeError(`${name} must be in [1, ${max}], got ${v}`);
  return v;
}

export function checkFinite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(`${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** An RGB8 image: integer sides and a Uint8Array of exactly height * width * 3 bytes. */
export function checkImage(name: string, image: unknown): RgbImage {
  if (typeof image !== 'object' || image === null) {
    throw new TypeError(`${name} must be an image { data: Uint8Array, height, width }`);
  }
  const { data, height, width } = image as Partial<RgbImage>;
  checkPositiveInt(`${name}.height`, height);
  checkPositiveInt(`${name}.width`, width);
  if (!(data instanceof Uint8Array)) throw new TypeError(`${name}.data must be a Uint8Array (RGB, HWC)`);
  const want = height! * width! * 3;
  if (data.length !== want) {
    throw new RangeError(`${name}.data has ${data.length} bytes, expected height * width * 3 = ${want}`);
  }
  return image as RgbImage;
}

/** Boxes as Float32Array [n, 4] (x1, y1, x2, y2); returns n. */
export function checkBoxes(name: string, boxes: unknown): number {
  if (!(boxes instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array [n, 4] (x1, y1, x2, y2)`);
  if (boxes.length % 4 !== 0) throw new RangeError(`${name}.length must be a multiple of 4, got ${boxes.length}`);
  return boxes.length / 4;
}
