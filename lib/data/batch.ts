// A training / inference batch as torchvision's GeneralizedRCNNTransform builds it: each image
// resized by the shorter-side rule, normalized, optionally flipped, then zero-padded at the
// bottom / right to one size divisible by `sizeDivisibility` (the FPN's strides then tile it).
import type { RgbImage } from './image';
import { checkBoxes, checkImage, checkPositiveInt } from './check';
import { flipBoxes } from './flip';
import { IMAGENET_MEAN, IMAGENET_STD, resizeImage, resizeScale, scaleBoxes, toTensorInput } from './resize';
import type { NormalizeOptions } from './resize';

/** One image of {@link makeBatch}'s input, with its ground truth if any. */
export interface BatchItem {
  image: RgbImage;
  /** Ground truth [n, 4] x1, y1, x2, y2 in the image's pixels (optional at inference). */
  boxes?: Float32Array;
  /** [n] contiguous class indices. */
  labels?: Int32Array;
}

/** Options of {@link makeBatch}: resizing, padding, normalization (ImageNet mean / std by default) and flipping. */
export interface BatchOptions extends NormalizeOptions {
  /** Shorter side after resizing (default 800, the paper's). */
  minSize?: number;
  /** Cap on the longer side (default 1333). */
  maxSize?: number;
  /** Padded sides are multiples of this (default 32, as torchvision / detectron2's FPN models). */
  sizeDivisibility?: number;
  /** Size rounding, see resizeScale (default 'floor', torchvision's). */
  rounding?: 'floor' | 'round';
  /** Which items to mirror left-right; overrides flipProbability. */
  flip?: readonly boolean[];
  /** Mirror each item with this probability, drawn from `rng` (default 0: no flipping). */
  flipProbability?: number;
  /** Uniform [0, 1) source for flipProbability, e.g. prng(seed) from lib/util/prng. */
  rng?: () => number;
}

/** A padded batch [B, H, W, 3] of normalized pixels, its ground truth in the batch's pixels, and each item's sizes for mapping detections back. */
export interface Batch {
  /** Normalized pixels, NHWC, zero in the padding. */
  images: Float32Array;
  shape: [number, number, number, 3];
  /** Per item, ground truth in the resized (and flipped) image's pixels. */
  boxes: Float32Array[];
  labels: Int32Array[];
  /** Per item, the scale factor of the resize rule. */
  scales: number[];
  /** Per item, [height, width] after resizing, before padding (clip detections to this). */
  sizes: [number, number][];
  /** Per item, the source image's [height, width] (map detections back by the ratio to `sizes`). */
  originalSizes: [number, number][];
  flipped: boolean[];
}

/**
 * Resizes (shorter side to `minSize`, longer at most `maxSize`), normalizes and optionally flips
 * each item, zero-pads all to one size divisible by `sizeDivisibility`, and scales their boxes.
 */
export function makeBatch(items: readonly BatchItem[], options: BatchOptions = {}): Batch {
  if (!Array.isArray(items) || items.length === 0) throw new TypeError('items must be a non-empty array of { image, boxes?, labels? }');
  const minSize = options.minSize ?? 800;
  const maxSize = options.maxSize ?? 1333;
  const div = checkPositiveInt('sizeDivisibility', options.sizeDivisibility ?? 32, 4096);
  const flip = flipDecisions(items.length, options);
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;

  // Check and size everything before allocating the batch.
  const plans = items.map((item, b) => {
    if (typeof item !== 'object' || item === null) throw new TypeError(`items[${b}] must be { image, boxes?, labels? }`);
    const n = item.boxes === undefined ? 0 : checkBoxes(`items[${b}].boxes`, item.boxes);
    if (item.labels !== undefined) {
      if (!(item.labels instanceof Int32Array)) throw new TypeError(`items[${b}].labels must be an Int32Array`);
      if (item.labels.length !== n) throw new RangeError(`items[${b}].labels has ${item.labels.length} entries for ${n} boxes`);
    }
    const img = checkImage(`items[${b}].image`, item.image);
    return resizeScale(img.height, img.width, minSize, maxSize, { rounding: options.rounding });
  });
  const H = Math.ceil(Math.max(...plans.map((p) => p.height)) / div) * div;
  const W = Math.ceil(Math.max(...plans.map((p) => p.width)) / div) * div;
  const B = items.length;
  if (B * H * W * 3 > 2 ** 31) throw new RangeError(`batch of ${B} x ${H} x ${W} x 3 floats is too large`);
  const images = new Float32Array(B * H * W * 3);

  const boxes: Float32Array[] = [];
  const labels: Int32Array[] = [];
  items.forEach((item, b) => {
    const p = plans[b];
    const same = p.height === item.image.height && p.width === item.image.width;
    const pixels = toTensorInput(same ? item.image : resizeImage(item.image, p.height, p.width), { mean, std }).data;
    const rowLen = p.width * 3;
    for (let y = 0; y < p.height; y++) {
      const src = y * rowLen;
      const dst = ((b * H + y) * W) * 3;
      if (!flip[b]) {
        images.set(pixels.subarray(src, src + rowLen), dst);
      } else {
        for (let x = 0; x < p.width; x++) {
          const s = src + (p.width - 1 - x) * 3, d = dst + x * 3;
          images[d] = pixels[s]; images[d + 1] = pixels[s + 1]; images[d + 2] = pixels[s + 2];
        }
      }
    }
    const scaled = scaleBoxes(item.boxes ?? new Float32Array(0), p.scaleY, p.scaleX);
    boxes.push(flip[b] ? flipBoxes(scaled, p.width) : scaled);
    labels.push(item.labels ? Int32Array.from(item.labels) : new Int32Array(0));
  });

  return {
    images,
    shape: [B, H, W, 3],
    boxes,
    labels,
    scales: plans.map((p) => p.scale),
    sizes: plans.map((p) => [p.height, p.width]),
    originalSizes: items.map((it) => [it.image.height, it.image.width]),
    flipped: flip,
  };
}

function flipDecisions(n: number, o: BatchOptions): boolean[] {
  if (o.flip !== undefined) {
    if (!Array.isArray(o.flip) || o.flip.length !== n || o.flip.some((f) => typeof f !== 'boolean')) {
      throw new TypeError(`flip must be an array of ${n} booleans`);
    }
    return [...o.flip];
  }
  const p = o.flipProbability ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`flipProbability must be in [0, 1], got ${String(p)}`);
  if (p === 0) return new Array<boolean>(n).fill(false);
  if (typeof o.rng !== 'function') throw new TypeError('flipProbability needs rng, a () => number in [0, 1)');
  return Array.from({ length: n }, () => o.rng!() < p);
}
