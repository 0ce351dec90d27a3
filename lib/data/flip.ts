// Horizontal flip, the paper's only augmentation (§5.1). Pixel x covers [x, x + 1), so a box
// [x1, x2) of an image `width` wide lands on [width - x2, width - x1).
import type { RgbImage } from './image';
import { checkBoxes, checkFinite, checkImage } from './check';

/** Boxes [n, 4] mirrored in an image `width` pixels wide; a new array (flipping twice is the identity). */
export function flipBoxes(boxes: Float32Array, width: number): Float32Array {
  checkBoxes('boxes', boxes);
  checkFinite('width', width);
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = width - boxes[i + 2];
    out[i + 1] = boxes[i + 1];
    out[i + 2] = width - boxes[i];
    out[i + 3] = boxes[i + 3];
  }
  return out;
}

/** An RGB8 image mirrored left-right; a new image. */
export function flipImage(image: RgbImage): RgbImage {
  const { data, height, width } = checkImage('image', image);
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3, d = row + (width - 1 - x) * 3;
      out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
    }
  }
  return { data: out, height, width };
}
