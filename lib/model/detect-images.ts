// One call from images (files, encoded bytes or decoded RGB) to detections in each source
// image's pixels, with class names and category ids: the resize, normalize, pad, detect and
// map-back steps of torchvision's model.eval()(images), on a RetinaNet of this package.
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from '../data/batch';
import { decodeImage, readImage, RgbImage } from '../data/image';
import * as ops from '../ops';
import { COCO_CATEGORY_NAMES } from './coco-names';
import { RetinaNet } from './retinanet';

/** An image: a file path (PNG or JPEG), its encoded bytes, or decoded RGB8 pixels (any size; gray files read as RGB). */
export type ImageInput = string | Uint8Array | RgbImage;

export interface DetectImagesOptions extends ops.PostprocessOptions {
  /** Shorter side after resizing (torchvision's min_size). Default 800. */
  minSize?: number;
  /** Cap on the longer side (max_size). Default 1333. */
  maxSize?: number;
  /** Name of each label. Default: COCO's for a 91-class model (torchvision's COCO detectors), else "class k". */
  classNames?: readonly string[];
  /** Dataset category id of each label. Default: the label itself for a 91-class model (torchvision's COCO ids), else label + 1. */
  categoryIds?: readonly number[];
  /** Images per forward pass. Default 1. */
  batch?: number;
}

/** One detection of {@link detectImages}: its box in the source image's pixels, score, label, category id and class name. */
export interface ImageDetection {
  /** [x1, y1, x2, y2] in the source image's pixels. */
  box: [number, number, number, number];
  score: number;
  /** The model's class index (0..numClasses-1). */
  label: number;
  categoryId: number;
  name: string;
}

/** Names and category ids of a model's labels when nothing names them: COCO's for 91 classes (torchvision's COCO detectors: label = category id), else "class k" and k + 1. */
export function defaultLabels(numClasses: number): { classNames: string[]; categoryIds: number[] } {
  const coco = numClasses === COCO_CATEGORY_NAMES.length;
  return {
    classNames: coco ? COCO_CATEGORY_NAMES.slice() : Array.from({ length: numClasses }, (_, i) => `class ${i}`),
    categoryIds: Array.from({ length: numClasses }, (_, i) => (coco ? i : i + 1)),
  };
}

function toImage(input: ImageInput, i: number): RgbImage {
  if (typeof input === 'string') return readImage(input);
  if (input instanceof Uint8Array) return decodeImage(input, `images[${i}]`);
  if (typeof input === 'object' && input !== null && 'data' in input) return input;
  throw new TypeError(`images[${i}]: expected a file path, encoded PNG/JPEG bytes, or { width, height, data } RGB8 pixels`);
}

/**
 * Detections for each image, best first, in its own pixels. Defaults as torchvision's RetinaNet
 * (min size 800, max 1333, ImageNet mean/std, padding to a multiple of 32; score > 0.05, 1,000
 * candidates per level, NMS 0.5), except at most 300 detections per image (torchvision's
 * detections_per_img; the model's own detect() keeps the paper's 100).
 */
export function detectImages(model: RetinaNet, images: readonly ImageInput[], options: DetectImagesOptions = {}): ImageDetection[][] {
  if (!(model instanceof RetinaNet)) throw new TypeError('model: expected a RetinaNet (createRetinaNet or loadCheckpoint)');
  if (!Array.isArray(images)) throw new TypeError('images: expected an array of file paths, encoded bytes or RGB images');
  const { minSize = 800, maxSize = 1333, classNames, categoryIds, batch = 1, ...post } = options;
  const k = model.config.numClasses;
  const fallback = defaultLabels(k);
  const names = classNames ?? fallback.classNames;
  const ids = categoryIds ?? fallback.categoryIds;
  if (names.length !== k) throw new RangeError(`classNames: ${names.length} names for a model of ${k} classes`);
  if (ids.length !== k || !ids.every(Number.isInteger)) throw new RangeError(`categoryIds: expected ${k} integers`);
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch: expected an integer >= 1, got ${String(batch)}`);
  const out: ImageDetection[][] = [];
  for (let start = 0; start < images.length; start += batch) {
    const group = images.slice(start, start + batch).map((im, j) => toImage(im, start + j));
    for (const det of detectRgb(model, group, { ...post, maxDetections: post.maxDetections ?? 300 }, minSize, maxSize)) {
      out.push(Array.from(det.scores, (score, j) => ({
        box: [det.boxes[4 * j], det.boxes[4 * j + 1], det.boxes[4 * j + 2], det.boxes[4 * j + 3]],
        score, label: det.classes[j], categoryId: ids[det.classes[j]], name: names[det.classes[j]],
      })));
    }
  }
  return out;
}

/** Detections of decoded images in their own pixels (boxes scaled back from the resized batch). */
export function detectRgb(model: RetinaNet, images: RgbImage[], post: ops.PostprocessOptions, minSize: number, maxSize: number): ops.Detections[] {
  const b = makeBatch(images.map((image) => ({ image })), { minSize, maxSize });
  const x = tf.tensor4d(b.images, b.shape);
  let dets: ops.Detections[];
  try {
    dets = model.detect(x, { ...post, imageSizes: b.sizes });
  } finally {
    x.dispose();
  }
  return dets.map((det, i) => {
    const [h, w] = b.sizes[i];
    const [oh, ow] = b.originalSizes[i];
    const boxes = new Float32Array(det.boxes.length);
    for (let j = 0; j < boxes.length; j += 4) {
      boxes[j] = (det.boxes[j] * ow) / w;
      boxes[j + 1] = (det.boxes[j + 1] * oh) / h;
      boxes[j + 2] = (det.boxes[j + 2] * ow) / w;
      boxes[j + 3] = (det.boxes[j + 3] * oh) / h;
    }
    return { boxes, scores: det.scores, classes: det.classes };
  });
}
