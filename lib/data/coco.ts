// COCO-format detection datasets (instances_*.json): boxes as x1, y1, x2, y2 with contiguous
// labels for training, crowd regions kept apart for evaluation, broken entries counted and skipped.
import * as fs from 'fs';
import * as path from 'path';

/** A COCO category: its id in the annotations and its name. */
export interface CocoCategory {
  id: number;
  name: string;
}

/** One image of a {@link CocoDataset}, with its ground truth in its own pixels. */
export interface CocoImageEntry {
  id: number;
  fileName: string;
  /** imageDir joined with fileName. */
  path: string;
  height: number;
  width: number;
  /** Non-crowd boxes [n, 4] x1, y1, x2, y2, clipped to the image (as torchvision's references). */
  boxes: Float32Array;
  /** [n] contiguous labels 0..K-1 (index into `categories`). */
  labels: Int32Array;
  /** [n] the annotations' `area` (segment area in COCO, used by AP's size ranges). */
  areas: Float32Array;
  /** Crowd regions: never training targets; evaluation ignores detections matching them. */
  crowdBoxes: Float32Array;
  crowdLabels: Int32Array;
  crowdAreas: Float32Array;
}

/** Counts of the annotations {@link loadCocoDataset} skipped, by reason, and of the images it dropped. */
export interface CocoSkipped {
  /** Not an object, or bbox missing / not 4 finite numbers. */
  badBox: number;
  /** width or height <= 0, or nothing left after clipping to the image. */
  degenerateBox: number;
  unknownCategory: number;
  unknownImage: number;
  /** Images dropped because their file is missing (skipMissingFiles). */
  missingFiles: number;
  /** Images dropped by skipEmpty (not a warning). */
  emptyImages: number;
}

/** A COCO-format dataset as {@link loadCocoDataset} loads it: categories, images with their boxes, and what was skipped. */
export interface CocoDataset {
  /** Sorted by id; label k is categories[k]. */
  categories: CocoCategory[];
  images: CocoImageEntry[];
  /** The category id of contiguous label `label` (a RangeError outside 0..K-1). */
  categoryIdOf(label: number): number;
  /** The contiguous label of a category id (a RangeError for an unknown id). */
  labelOf(categoryId: number): number;
  skipped: CocoSkipped;
}

/** Image files listed in the annotations are missing (and skipMissingFiles was not set). */
export class MissingImageFilesError extends Error {
  constructor(readonly missing: number, readonly total: number, readonly first: string, readonly annotations: string, readonly imageDir: string) {
    super(`${missing} of ${total} image files listed in ${annotations} are missing under ${imageDir}, first: ${first} ` +
      '(pass skipMissingFiles: true to drop them)');
    this.name = 'MissingImageFilesError';
  }
}

/** Options of {@link loadCocoDataset}. */
export interface CocoLoadOptions {
  /** Drop images without non-crowd boxes, for training (detectron2 drops crowd-only images too). */
  skipEmpty?: boolean;
  /** Check that every image file exists (default true). */
  checkFiles?: boolean;
  /** Drop images whose file is missing instead of failing (default false). */
  skipMissingFiles?: boolean;
  /** Receives the one-line summary of skipped annotations / files (default console.warn). */
  onWarning?: (line: string) => void;
}

/** One ground-truth entry in the shape COCO evaluation consumes (bbox x, y, w, h). */
export interface CocoGroundTruth {
  imageId: number;
  categoryId: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read COCO annotations ${file}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`COCO annotations ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(json)) throw new Error(`COCO annotations ${file}: expected a JSON object at the top level`);
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(json[key])) throw new Error(`COCO annotations ${file}: missing top-level array "${key}"`);
  }
  return json;
}

function parseCategories(file: string, raw: unknown[]): CocoCategory[] {
  const cats = raw.map((c, i) => {
    if (!isObject(c) || !Number.isInteger(c.id)) throw new Error(`COCO annotations ${file}: categories[${i}] has no integer "id"`);
    if (typeof c.name !== 'string') throw new Error(`COCO annotations ${file}: categories[${i}] has no string "name"`);
    return { id: c.id as number, name: c.name };
  }).sort((a, b) => a.id - b.id);
  if (cats.length === 0) throw new Error(`COCO annotations ${file}: "categories" is empty`);
  for (let i = 1; i < cats.length; i++) {
    if (cats[i].id === cats[i - 1].id) throw new Error(`COCO annotations ${file}: category id ${cats[i].id} appears twice`);
  }
  return cats;
}

interface Grouped {
  boxes: number[]; labels: number[]; areas: number[];
  crowdBoxes: number[]; crowdLabels: number[]; crowdAreas: number[];
}

/**
 * Loads a COCO-format detection dataset. Throws (naming the file) on unreadable or malformed
 * JSON, malformed image or category entries, and missing image files unless skipMissingFiles;
 * broken annotations are skipped and summarized in one onWarning line.
 */
export function loadCocoDataset(annotationsJsonPath: string, imageDir: string, options: CocoLoadOptions = {}): CocoDataset {
  if (typeof annotationsJsonPath !== 'string' || annotationsJsonPath.length === 0) throw new TypeError('annotationsJsonPath must be a non-empty string');
  if (typeof imageDir !== 'string') throw new TypeError('imageDir must be a string');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new TypeError('onWarning must be a function');
  const file = annotationsJsonPath;
  const json = readJson(file);
  const categories = parseCategories(file, json.categories as unknown[]);
  const labelById = new Map(categories.map((c, k) => [c.id, k]));

  const rawImages = json.images as unknown[];
  const groups = new Map<number, Grouped>();
  const images = rawImages.map((im, i) => {
    const bad = (what: string) => new Error(`COCO annotations ${file}: images[${i}] ${what}`);
    if (!isObject(im) || !Number.isInteger(im.id)) throw bad('has no integer "id"');
    if (typeof im.file_name !== 'string' || im.file_name.length === 0) throw bad('has no "file_name"');
    if (!Number.isInteger(im.height) || (im.height as number) < 1 || !Number.isInteger(im.width) || (im.width as number) < 1) {
      throw bad('needs positive integer "height" and "width"');
    }
    const id = im.id as number;
    if (groups.has(id)) throw bad(`repeats image id ${id}`);
    groups.set(id, { boxes: [], labels: [], areas: [], crowdBoxes: [], crowdLabels: [], crowdAreas: [] });
    return { id, fileName: im.file_name, height: im.height as number, width: im.width as number };
  });
  const sizeById = new Map(images.map((im) => [im.id, im]));

  const skipped: CocoSkipped = { badBox: 0, degenerateBox: 0, unknownCategory: 0, unknownImage: 0, missingFiles: 0, emptyImages: 0 };
  const annotations = json.annotations as unknown[];
  for (const a of annotations) {
    if (!isObject(a)) { skipped.badBox++; continue; }
    const im = sizeById.get(a.image_id as number);
    if (im === undefined) { skipped.unknownImage++; continue; }
    const label = labelById.get(a.category_id as number);
    if (label === undefined) { skipped.unknownCategory++; continue; }
    const b = a.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      skipped.badBox++; continue;
    }
    const [x, y, w, h] = b as number[];
    // Clip as torchvision's ConvertCocoPolysToMask, then drop what is left empty.
    const x1 = Math.min(Math.max(x, 0), im.width), y1 = Math.min(Math.max(y, 0), im.height);
    const x2 = Math.min(Math.max(x + w, 0), im.width), y2 = Math.min(Math.max(y + h, 0), im.height);
    if (w <= 0 || h <= 0 || x2 <= x1 || y2 <= y1) { skipped.degenerateBox++; continue; }
    const area = typeof a.area === 'number' && Number.isFinite(a.area) && a.area >= 0 ? a.area : w * h;
    const g = groups.get(im.id)!;
    if (a.iscrowd === 1 || a.iscrowd === true) {
      g.crowdBoxes.push(x1, y1, x2, y2); g.crowdLabels.push(label); g.crowdAreas.push(area);
    } else {
      g.boxes.push(x1, y1, x2, y2); g.labels.push(label); g.areas.push(area);
    }
  }

  let entries: CocoImageEntry[] = images.map((im) => {
    const g = groups.get(im.id)!;
    return {
      ...im,
      path: path.join(imageDir, im.fileName),
      boxes: Float32Array.from(g.boxes),
      labels: Int32Array.from(g.labels),
      areas: Float32Array.from(g.areas),
      crowdBoxes: Float32Array.from(g.crowdBoxes),
      crowdLabels: Int32Array.from(g.crowdLabels),
      crowdAreas: Float32Array.from(g.crowdAreas),
    };
  });
  groups.clear();

  if (options.skipEmpty) {
    const kept = entries.filter((e) => e.labels.length > 0);
    skipped.emptyImages = entries.length - kept.length;
    entries = kept;
  }

  if (options.checkFiles ?? true) {
    const missing = entries.filter((e) => !fs.existsSync(e.path));
    if (missing.length > 0 && !options.skipMissingFiles) {
      throw new MissingImageFilesError(missing.length, entries.length, missing[0].path, file, imageDir);
    }
    if (missing.length > 0) {
      const gone = new Set(missing);
      entries = entries.filter((e) => !gone.has(e));
      skipped.missingFiles = missing.length;
    }
  }

  const warning = summarize(file, annotations.length, skipped);
  if (warning) (options.onWarning ?? console.warn)(warning);

  return {
    categories,
    images: entries,
    skipped,
    categoryIdOf(label: number): number {
      if (!Number.isInteger(label) || label < 0 || label >= categories.length) {
        throw new RangeError(`label must be an integer in [0, ${categories.length}), got ${label}`);
      }
      return categories[label].id;
    },
    labelOf(categoryId: number): number {
      const k = labelById.get(categoryId);
      if (k === undefined) throw new RangeError(`unknown category id ${categoryId}`);
      return k;
    },
  };
}

function summarize(file: string, total: number, s: CocoSkipped): string | undefined {
  const parts: string[] = [];
  if (s.badBox) parts.push(`${s.badBox} without a valid bbox`);
  if (s.degenerateBox) parts.push(`${s.degenerateBox} with an empty box (w or h <= 0 inside the image)`);
  if (s.unknownCategory) parts.push(`${s.unknownCategory} with an unknown category_id`);
  if (s.unknownImage) parts.push(`${s.unknownImage} with an unknown image_id`);
  const bad = s.badBox + s.degenerateBox + s.unknownCategory + s.unknownImage;
  const lines: string[] = [];
  if (bad) lines.push(`skipped ${bad} of ${total} annotations: ${parts.join(', ')}`);
  if (s.missingFiles) lines.push(`dropped ${s.missingFiles} images whose file is missing`);
  return lines.length ? `${file}: ${lines.join('; ')}` : undefined;
}

/** The dataset's ground truth as COCO evaluation wants it: bbox x, y, w, h, crowds flagged. */
export function cocoGroundTruth(dataset: CocoDataset): CocoGroundTruth[] {
  if (!isObject(dataset) || !Array.isArray(dataset.images) || !Array.isArray(dataset.categories)) {
    throw new TypeError('dataset must be the result of loadCocoDataset');
  }
  const out: CocoGroundTruth[] = [];
  const push = (imageId: number, boxes: Float32Array, labels: Int32Array, areas: Float32Array, iscrowd: 0 | 1) => {
    for (let i = 0; i < labels.length; i++) {
      const x1 = boxes[4 * i], y1 = boxes[4 * i + 1];
      out.push({
        imageId,
        categoryId: dataset.categories[labels[i]].id,
        bbox: [x1, y1, boxes[4 * i + 2] - x1, boxes[4 * i + 3] - y1],
        area: areas[i],
        iscrowd,
      });
    }
  };
  for (const im of dataset.images) {
    push(im.id, im.boxes, im.labels, im.areas, 0);
    push(im.id, im.crowdBoxes, im.crowdLabels, im.crowdAreas, 1);
  }
  return out;
}
