// The detector's input scaling: the paper's "shorter side to N pixels" rule (with torchvision's
// rounding), bilinear resampling that matches torch / tf.image, and ImageNet normalization.
import type { RgbImage } from './image';
import { checkBoxes, checkFinite, checkImage, checkPositiveInt } from './check';

/** Float pixels, height × width × 3, row-major; values as the source (0..255 for RGB8). */
export interface FloatImage {
  data: Float32Array;
  height: number;
  width: number;
}

/** The size {@link resizeScale} resizes an image to, and the ratios its boxes scale by. */
export interface ResizeScale {
  /** The requested scale factor: min(minSize / shorter side, maxSize / longer side). */
  scale: number;
  height: number;
  width: number;
  /** The actual per-axis ratios new / old, which boxes are scaled by (as torchvision's resize_boxes). */
  scaleY: number;
  scaleX: number;
}

/** Options of {@link resizeScale}. */
export interface ResizeScaleOptions {
  /**
   * 'floor' (default): torchvision's GeneralizedRCNNTransform, which resizes with
   * scale_factor and recompute_scale_factor=True, giving floor(side * scale).
   * 'round': detectron2's ResizeShortestEdge, int(side * scale + 0.5).
   */
  rounding?: 'floor' | 'round';
}

/**
 * The size an image of height × width is resized to: shorter side to `minSize` unless the longer
 * side would then exceed `maxSize`, in which case longer side to `maxSize` (paper §5.1: 800 / 1333).
 */
export function resizeScale(height: number, width: number, minSize: number, maxSize: number,
  options: ResizeScaleOptions = {}): ResizeScale {
  checkPositiveInt('height', height);
  checkPositiveInt('width', width);
  if (checkFinite('minSize', minSize) <= 0) throw new RangeError(`minSize must be > 0, got ${minSize}`);
  if (checkFinite('maxSize', maxSize) < minSize) throw new RangeError(`maxSize must be >= minSize (${minSize}), got ${maxSize}`);
  const rounding = options.rounding ?? 'floor';
  if (rounding !== 'floor' && rounding !== 'round') throw new TypeError(`rounding must be 'floor' or 'round', got ${String(rounding)}`);
  // torchvision computes the scale in float32 — `min_size / side` on a float32 tensor, which
  // PyTorch evaluates as reciprocal(side) * min_size — and the size as floor(side * scale) in
  // double, so a side can land one pixel off the exact product (83 px towards 96 gives 95, 427
  // towards 800 gives 799): the same arithmetic here, so the sizes agree exactly. detectron2's
  // rounding works in double.
  const f32Ratio = (target: number, side: number): number => Math.fround(Math.fround(1 / side) * Math.fround(target));
  const scale = rounding === 'floor'
    ? Math.min(f32Ratio(minSize, Math.min(height, width)), f32Ratio(maxSize, Math.max(height, width)))
    : Math.min(minSize / Math.min(height, width), maxSize / Math.max(height, width));
  const size = (s: number) => Math.max(1, rounding === 'floor' ? Math.floor(s * scale) : Math.floor(s * scale + 0.5));
  const h = size(height);
  const w = size(width);
  return { scale, height: h, width: w, scaleY: h / height, scaleX: w / width };
}

/**
 * Bilinear resize with half-pixel centers (align_corners=False): torch's
 * interpolate(mode='bilinear') with an output size, and tf.image.resizeBilinear(x, size, false, true).
 * Accepts RGB8 or float pixels; returns float pixels on the same scale.
 */
export function resizeImage(image: RgbImage | FloatImage, height: number, width: number): FloatImage {
  const src = checkAnyImage('image', image);
  checkPositiveInt('height', height);
  checkPositiveInt('width', width);
  const { data, height: ih, width: iw } = src;
  const out = new Float32Array(height * width * 3);
  // Source coordinate of each output column / row; clamped at 0 as both libraries do.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float64Array(width);
  const rx = iw / width;
  for (let x = 0; x < width; x++) {
    const s = Math.max(0, (x + 0.5) * rx - 0.5);
    const f = Math.floor(s);
    x0[x] = Math.min(f, iw - 1) * 3;
    x1[x] = Math.min(f + 1, iw - 1) * 3;
    fx[x] = s - f;
  }
  const ry = ih / height;
  for (let y = 0; y < height; y++) {
    const s = Math.max(0, (y + 0.5) * ry - 0.5);
    const f = Math.floor(s);
    const r0 = Math.min(f, ih - 1) * iw * 3;
    const r1 = Math.min(f + 1, ih - 1) * iw * 3;
    const fy = s - f;
    let o = y * width * 3;
    for (let x = 0; x < width; x++) {
      const a = x0[x], b = x1[x], wx = fx[x];
      for (let c = 0; c < 3; c++, o++) {
        const top = data[r0 + a + c] + (data[r0 + b + c] - data[r0 + a + c]) * wx;
        const bot = data[r1 + a + c] + (data[r1 + b + c] - data[r1 + a + c]) * wx;
        out[o] = top + (bot - top) * fy;
      }
    }
  }
  return { data: out, height, width };
}

/** Boxes [n, 4] scaled per axis (x by scaleX, y by scaleY); a new array. */
export function scaleBoxes(boxes: Float32Array, scaleY: number, scaleX: number): Float32Array {
  checkBoxes('boxes', boxes);
  checkFinite('scaleY', scaleY);
  checkFinite('scaleX', scaleX);
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * scaleX;
    out[i + 1] = boxes[i + 1] * scaleY;
    out[i + 2] = boxes[i + 2] * scaleX;
    out[i + 3] = boxes[i + 3] * scaleY;
  }
  return out;
}

/** torchvision's ImageNet statistics, on [0, 1] pixel values. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Per-channel mean and std (RGB, of pixels in [0, 1]) of {@link toTensorInput}; defaults IMAGENET_MEAN and IMAGENET_STD. */
export interface NormalizeOptions {
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/**
 * The network's input: (pixel / 255 - mean) / std per channel, as torchvision's
 * GeneralizedRCNNTransform. Pixels are 0..255 (RGB8 or a resized FloatImage); HWC order kept.
 */
export function toTensorInput(image: RgbImage | FloatImage, options: NormalizeOptions = {}): { data: Float32Array; shape: [number, number, 3] } {
  const { data, height, width } = checkAnyImage('image', image);
  const [ma, mb, mc] = checkTriple('mean', options.mean ?? IMAGENET_MEAN);
  const [sa, sb, sc] = checkTriple('std', options.std ?? IMAGENET_STD, true);
  const out = new Float32Array(data.length);
  // (v / 255 - m) / s = v * (1 / (255 s)) - m / s
  const ka = 1 / (255 * sa), kb = 1 / (255 * sb), kc = 1 / (255 * sc);
  const oa = ma / sa, ob = mb / sb, oc = mc / sc;
  for (let i = 0; i < data.length; i += 3) {
    out[i] = data[i] * ka - oa;
    out[i + 1] = data[i + 1] * kb - ob;
    out[i + 2] = data[i + 2] * kc - oc;
  }
  return { data: out, shape: [height, width, 3] };
}

function checkTriple(name: string, v: unknown, positive = false): readonly [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) throw new TypeError(`${name} must be an array of 3 numbers`);
  v.forEach((x, i) => {
    checkFinite(`${name}[${i}]`, x);
    if (positive && x <= 0) throw new RangeError(`${name}[${i}] must be > 0, got ${x}`);
  });
  return v as unknown as [number, number, number];
}

export function checkAnyImage(name: string, image: unknown): RgbImage | FloatImage {
  if (typeof image === 'object' && image !== null && (image as FloatImage).data instanceof Float32Array) {
    const { data, height, width } = image as FloatImage;
    checkPositiveInt(`${name}.height`, height);
    checkPositiveInt(`${name}.width`, width);
    if (data.length !== height * width * 3) {
      throw new RangeError(`${name}.data has ${data.length} values, expected height * width * 3 = ${height * width * 3}`);
    }
    return image as FloatImage;
  }
  return checkImage(name, image);
}
