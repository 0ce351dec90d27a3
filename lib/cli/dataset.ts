// Where a command's COCO dataset lives (`--data DIR` = DIR/instances.json + DIR/images, or
// --annotations and --images), and its images decoded once and kept while memory allows.
import * as fs from 'fs';
import * as path from 'path';
import { CocoDataset, CocoLoadOptions, loadCocoDataset, MissingImageFilesError } from '../data/coco';
import { readImage, RgbImage } from '../data/image';
import { FlagSpec, Flags, UsageError } from './args';

export const DATASET_FLAGS: FlagSpec[] = [
  { name: 'data', type: 'string', value: 'DIR', help: 'COCO-format dataset folder: DIR/instances.json and DIR/images/ (as make-dataset writes)' },
  { name: 'annotations', type: 'string', value: 'FILE', help: 'COCO instances JSON (instead of --data)' },
  { name: 'images', type: 'string', value: 'DIR', help: 'image folder of --annotations' },
  { name: 'skip-missing-images', type: 'boolean', default: false, help: 'drop annotated images whose file is missing (default: refuse the dataset)' },
];

export interface DatasetPaths {
  annotations: string;
  images: string;
  /** How they were given: the flags an error message names. */
  given: 'data' | 'annotations';
  skipMissingImages: boolean;
}

export function datasetPaths(command: string, flags: Flags): DatasetPaths {
  const data = flags.optionalString('data');
  const annotations = flags.optionalString('annotations');
  const images = flags.optionalString('images');
  const skipMissingImages = flags.boolean('skip-missing-images');
  if (data !== undefined) {
    if (annotations !== undefined || images !== undefined) throw new UsageError(command, 'give --data, or --annotations and --images, not both');
    return { annotations: path.join(data, 'instances.json'), images: path.join(data, 'images'), given: 'data', skipMissingImages };
  }
  if (annotations === undefined || images === undefined) throw new UsageError(command, 'a dataset is needed: --data DIR, or --annotations FILE and --images DIR');
  return { annotations, images, given: 'annotations', skipMissingImages };
}

/** Loads the dataset; each failure names what is wrong and the flag that fixes it. */
export function openDataset(paths: DatasetPaths, options: CocoLoadOptions = {}): CocoDataset {
  const isDir = (p: string): boolean => fs.existsSync(p) && fs.statSync(p).isDirectory();
  if (paths.given === 'data') {
    const dir = path.dirname(paths.annotations);
    if (!isDir(dir)) throw new RangeError(`--data ${dir}: no such folder`);
    if (!fs.existsSync(paths.annotations)) {
      throw new RangeError(`--data ${dir}: the folder has no instances.json (a dataset folder holds instances.json and images/; ` +
        'for other layouts give --annotations FILE --images DIR; retinanet make-dataset --out DIR writes a synthetic one)');
    }
    if (!isDir(paths.images)) throw new RangeError(`--data ${dir}: the folder has no images/ subfolder (for other layouts give --annotations FILE --images DIR)`);
  } else {
    if (!fs.existsSync(paths.annotations)) throw new RangeError(`--annotations ${paths.annotations}: no such file`);
    if (!isDir(paths.images)) throw new RangeError(`--images ${paths.images}: no such folder`);
  }
  try {
    return loadCocoDataset(paths.annotations, paths.images, { ...options, skipMissingFiles: paths.skipMissingImages });
  } catch (e) {
    if (e instanceof MissingImageFilesError) {
      throw new RangeError(`${e.missing} of ${e.total} images listed in ${e.annotations} have no file under ${e.imageDir} ` +
        `(first: ${e.first}); check ${paths.given === 'data' ? '--data' : '--images'}, or pass --skip-missing-images to train on the rest`);
    }
    throw e;
  }
}

/** Decoded images by path, kept up to a byte budget (then decoded again when needed). */
export class ImageCache {
  private readonly images = new Map<string, RgbImage>();
  private bytes = 0;

  constructor(private readonly budgetBytes = 1 << 30) {}

  /** A dataset image, checked against the size its annotations give (their boxes are in those pixels). */
  entry(e: { path: string; width: number; height: number }): RgbImage {
    const image = this.get(e.path);
    if (image.width !== e.width || image.height !== e.height) {
      throw new RangeError(`${e.path}: the file is ${image.width}×${image.height} pixels, its annotations say ${e.width}×${e.height} (boxes are in the annotations' pixels: fix the file or the JSON's width and height)`);
    }
    return image;
  }

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
