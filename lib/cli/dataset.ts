// Where a command's COCO dataset lives (`--data DIR` = DIR/instances.json + DIR/images, or
// --annotations and --images), and its images decoded once and kept while memory allows.
import * as fs from 'fs';
import * as path from 'path';
import { CocoDataset, CocoLoadOptions, loadCocoDataset } from '../data/coco';
import { readImage, RgbImage } from '../data/image';
import { FlagSpec, Flags, UsageError } from './args';

export const DATASET_FLAGS: FlagSpec[] = [
  { name: 'data', type: 'string', value: 'DIR', help: 'COCO-format dataset folder: DIR/instances.json and DIR/images/ (as make-dataset writes)' },
  { name: 'annotations', type: 'string', value: 'FILE', help: 'COCO instances JSON (instead of --data)' },
  { name: 'images', type: 'string', value: 'DIR', help: 'image folder of --annotations' },
];

export function datasetPaths(command: string, flags: Flags): { annotations: string; images: string } {
  const data = flags.optionalString('data');
  const annotations = flags.optionalString('annotations');
  const images = flags.optionalString('images');
  if (data !== undefined) {
    if (annotations !== undefined || images !== undefined) throw new UsageError(command, 'give --data, or --annotations and --images, not both');
    return { annotations: path.join(data, 'instances.json'), images: path.join(data, 'images') };
  }
  if (annotations === undefined || images === undefined) throw new UsageError(command, 'a dataset is needed: --data DIR, or --annotations FILE and --images DIR');
  return { annotations, images };
}

export function openDataset(paths: { annotations: string; images: string }, options: CocoLoadOptions = {}): CocoDataset {
  if (!fs.existsSync(paths.annotations)) throw new RangeError(`no dataset at ${paths.annotations} (make one with: retinanet make-dataset --out DIR)`);
  return loadCocoDataset(paths.annotations, paths.images, options);
}

/** Decoded images by path, kept up to a byte budget (then decoded again when needed). */
export class ImageCache {
  private readonly images = new Map<string, RgbImage>();
  private bytes = 0;

  constructor(private readonly budgetBytes = 1 << 30) {}

  get(file: string): RgbImage {
    const hit = this.images.get(file);
    if (hit) return hit;
    const image = readImage(file);
    if (this.bytes + image.data.length <= this.budgetBytes) {
      this.images.set(file, image);
      this.bytes += image.data.length;
    }
    return image;
  }
}
