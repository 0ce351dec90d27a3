// Detection on decoded images as the commands run it (the library's detectRgb): resized by the training run's rule,
// batched with padding, the native post-processing clipped to each unpadded image, and the boxes
// mapped back to the source image's pixels.
import { RgbImage } from '../data/image';
import { loadCheckpoint } from '../model/checkpoint';
import { RetinaNet } from '../model/retinanet';
import { detectRgb } from '../model/detect-images';
import * as ops from '../ops';
import { FlagSpec, Flags } from './args';

export const INFERENCE_FLAGS: FlagSpec[] = [
  { name: 'checkpoint', type: 'string', value: 'FILE', default: 'runs/train/checkpoint.safetensors', help: 'checkpoint written by train' },
  { name: 'min-size', type: 'int', min: 8, help: 'shorter image side (default: the training run\'s)' },
  { name: 'max-size', type: 'int', min: 8, help: 'cap on the longer side (default: the training run\'s)' },
  { name: 'batch', type: 'int', min: 1, default: 4, help: 'images per forward pass' },
];

export interface Detector {
  model: RetinaNet;
  classNames: string[];
  /** The dataset's category id of each label (COCO results use them); 1..K when the checkpoint has none. */
  categoryIds: number[];
  minSize: number;
  maxSize: number;
}

export function openDetector(flags: Flags): Detector {
  const ck = loadCheckpoint(flags.string('checkpoint'));
  ck.trainer?.dispose();
  const e = ck.extra as { classNames?: string[]; categoryIds?: number[]; minSize?: number; maxSize?: number };
  const k = ck.model.config.numClasses;
  const classNames = Array.isArray(e.classNames) && e.classNames.length === k ? e.classNames : Array.from({ length: k }, (_, i) => `class ${i}`);
  const categoryIds = Array.isArray(e.categoryIds) && e.categoryIds.length === k && e.categoryIds.every(Number.isInteger)
    ? e.categoryIds : Array.from({ length: k }, (_, i) => i + 1);
  return {
    model: ck.model, classNames, categoryIds,
    minSize: flags.has('min-size') ? flags.int('min-size') : e.minSize ?? 800,
    maxSize: flags.has('max-size') ? flags.int('max-size') : e.maxSize ?? 1333,
  };
}

/** Detections of one batch of images, in each source image's pixels. */
export function detectBatch(d: Omit<Detector, 'categoryIds' | 'classNames'>, images: RgbImage[], post: ops.PostprocessOptions = {}): ops.Detections[] {
  return detectRgb(d.model, images, post, d.minSize, d.maxSize);
}
