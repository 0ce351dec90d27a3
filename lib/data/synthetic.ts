// A synthetic COCO-format detection dataset: filled shapes (class = form, colour random) on a
// cluttered background, generated deterministically from a seed. Small enough to learn in
// minutes on a CPU, hard enough (scale range, overlap, distractors) to exercise a detector.
import * as fs from 'fs';
import * as path from 'path';
import { prng } from '../util/prng';
import type { RgbImage } from './image';
import { encodePng } from './image';
import { writeFileAtomic } from './atomic-write';
import { checkPositiveInt } from './check';
import { SHAPE_NAMES, SHAPE_TESTS } from './shapes';

/** How {@link generateShapesImage} draws an image of the synthetic shapes dataset. */
export interface ShapesOptions {
  /** Side of the square images (default 320). */
  size?: number;
  /** Number of classes, the first of SHAPE_NAMES (default 4: square, circle, triangle, cross; at most 8). */
  classes?: number;
  /** Longer side of an object, drawn log-uniformly in [minObject, min(maxObject, size)] (defaults 8, 300). */
  minObject?: number;
  maxObject?: number;
  /** Objects per image are drawn in [ceil(max / 2), max] (default 8); fewer when they do not fit. */
  maxObjectsPerImage?: number;
  /** Background gradient, low-contrast blobs, lines and pixel noise (default true); false: a plain gradient. */
  clutter?: boolean;
}

/** One synthetic image (RGB8, size × size) and its ground truth; labels index SHAPE_NAMES. */
export interface ShapesImage {
  image: RgbImage;
  /** [n, 4] x1, y1, x2, y2: the tight box of each object's visible pixels. */
  boxes: Float32Array;
  labels: Int32Array;
  /** Visible pixels per object (COCO's `area`). */
  areas: Float32Array;
  /** Per pixel, 0 for background or 1 + the index of the object shown there. */
  instances: Uint8Array;
}

interface Resolved {
  size: number; classes: number; minObject: number; maxObject: number; maxObjects: number; clutter: boolean;
}

// Limits that keep every object recognisable: boxes overlap at most this IoU, and an object
// keeps at least this fraction of its pixels when later (smaller) ones are drawn over it.
const MAX_IOU = 0.3;
const MIN_VISIBLE = 0.7;
const MAX_ASPECT = 1.5;
const MIN_CONTRAST = 100;

function resolve(o: ShapesOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  const size = checkPositiveInt('size', o.size ?? 320, 8192);
  if (size < 16) throw new RangeError(`size must be >= 16, got ${size}`);
  const classes = checkPositiveInt('classes', o.classes ?? 4, SHAPE_NAMES.length);
  const minObject = checkPositiveInt('minObject', o.minObject ?? 8, 8192);
  const maxObject = Math.min(checkPositiveInt('maxObject', o.maxObject ?? 300, 8192), size);
  if (minObject < 4) throw new RangeError(`minObject must be >= 4 pixels, got ${minObject}`);
  if (minObject > maxObject) throw new RangeError(`minObject (${minObject}) must be <= min(maxObject, size) = ${maxObject}`);
  const maxObjects = checkPositiveInt('maxObjectsPerImage', o.maxObjectsPerImage ?? 8, 255);
  const clutter = o.clutter ?? true;
  if (typeof clutter !== 'boolean') throw new TypeError('clutter must be a boolean');
  return { size, classes, minObject, maxObject, maxObjects, clutter };
}

/** The category names for `classes` classes. */
export function shapeClassNames(classes = 4): string[] {
  checkPositiveInt('classes', classes, SHAPE_NAMES.length);
  return SHAPE_NAMES.slice(0, classes);
}

function randomColor(rng: () => number): [number, number, number] {
  return [Math.floor(rng() * 256), Math.floor(rng() * 256), Math.floor(rng() * 256)];
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** One image with its ground truth, drawn from `rng` (uniform [0, 1), e.g. prng(seed)). */
export function generateShapesImage(rng: () => number, options: ShapesOptions = {}): ShapesImage {
  if (typeof rng !== 'function') throw new TypeError('rng must be a function returning numbers in [0, 1)');
  const o = resolve(options);
  const S = o.size;
  const data = new Uint8Array(S * S * 3);
  const instances = new Uint8Array(S * S);

  // Background: a linear gradient between two random colours.
  const c0 = randomColor(rng), c1 = randomColor(rng);
  const angle = rng() * 2 * Math.PI;
  const dx = Math.cos(angle) / (S * Math.SQRT2), dy = Math.sin(angle) / (S * Math.SQRT2);
  const bgAt = (x: number, y: number): number[] => {
    const t = 0.5 + (x - S / 2) * dx + (y - S / 2) * dy;
    return [c0[0] + (c1[0] - c0[0]) * t, c0[1] + (c1[1] - c0[1]) * t, c0[2] + (c1[2] - c0[2]) * t];
  };
  const d0 = c1[0] - c0[0], d1 = c1[1] - c0[1], d2 = c1[2] - c0[2];
  for (let y = 0, p = 0; y < S; y++) {
    const ty = 0.5 + (0.5 - S / 2) * dx + (y + 0.5 - S / 2) * dy;
    for (let x = 0; x < S; x++, p += 3) {
      const t = ty + x * dx;
      data[p] = c0[0] + d0 * t; data[p + 1] = c0[1] + d1 * t; data[p + 2] = c0[2] + d2 * t;
    }
  }
  if (o.clutter) drawClutter(rng, data, S, bgAt);

  // Object sizes first, placed largest first so later (smaller) ones occlude only a little.
  const lo = Math.ceil(o.maxObjects / 2);
  const count = lo + Math.floor(rng() * (o.maxObjects - lo + 1));
  const specs = Array.from({ length: count }, () => {
    const longer = Math.exp(Math.log(o.minObject) + rng() * Math.log(o.maxObject / o.minObject));
    const shorter = Math.max(Math.min(o.minObject, longer), longer / (1 + rng() * (MAX_ASPECT - 1)));
    const wide = rng() < 0.5;
    return { w: wide ? longer : shorter, h: wide ? shorter : longer, label: Math.floor(rng() * o.classes) };
  }).sort((a, b) => b.w * b.h - a.w * a.h);

  const placed: { x1: number; y1: number; x2: number; y2: number; color: number[]; pixels: number; visible: number }[] = [];
  const labels: number[] = [];
  const covered = new Int32Array(o.maxObjects + 1);
  for (const spec of specs) {
    const test = SHAPE_TESTS[spec.label];
    for (let attempt = 0; attempt < 20; attempt++) {
      const x1 = rng() * (S - spec.w), y1 = rng() * (S - spec.h);
      const x2 = x1 + spec.w, y2 = y1 + spec.h;
      if (placed.some((q) => iou(x1, y1, x2, y2, q) > MAX_IOU)) continue;
      const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, rx = spec.w / 2, ry = spec.h / 2;
      const px0 = Math.floor(x1), px1 = Math.min(S, Math.ceil(x2));
      const py0 = Math.floor(y1), py1 = Math.min(S, Math.ceil(y2));
      // Count the pixels this shape would take from each object already drawn.
      covered.fill(0);
      let pixels = 0;
      for (let y = py0; y < py1; y++) {
        const v = (y + 0.5 - cy) / ry;
        for (let x = px0; x < px1; x++) {
          if (test((x + 0.5 - cx) / rx, v)) { pixels++; covered[instances[y * S + x]]++; }
        }
      }
      if (pixels < 8) continue;
      if (placed.some((q, i) => q.visible - covered[i + 1] < MIN_VISIBLE * q.pixels)) continue;
      // A colour that stands out from the background and from the objects it overlaps.
      const under = [bgAt(cx, cy), ...placed.filter((q) => iou(x1, y1, x2, y2, q) > 0).map((q) => q.color)];
      let color = randomColor(rng);
      for (let k = 0; k < 10 && under.some((c) => distance(c, color) < MIN_CONTRAST); k++) color = randomColor(rng);
      placed.forEach((q, i) => { q.visible -= covered[i + 1]; });
      const id = placed.length + 1;
      for (let y = py0; y < py1; y++) {
        const v = (y + 0.5 - cy) / ry;
        for (let x = px0; x < px1; x++) {
          if (!test((x + 0.5 - cx) / rx, v)) continue;
          const p = y * S + x;
          instances[p] = id;
          data[3 * p] = color[0]; data[3 * p + 1] = color[1]; data[3 * p + 2] = color[2];
        }
      }
      placed.push({ x1, y1, x2, y2, color, pixels, visible: pixels });
      labels.push(spec.label);
      break;
    }
  }

  if (o.clutter) {
    // Sensor-like noise over everything, one draw per pixel (gray grain) to stay fast.
    for (let p = 0; p < data.length; p += 3) {
      const n = Math.floor(rng() * 25) - 12;
      data[p] = clamp255(data[p] + n); data[p + 1] = clamp255(data[p + 1] + n); data[p + 2] = clamp255(data[p + 2] + n);
    }
  }

  // Ground truth from what is actually visible: the tight box of each object's pixels.
  const n = placed.length;
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) boxes.set([S, S, 0, 0], 4 * i);
  const areas = new Float32Array(n);
  for (let y = 0, p = 0; y < S; y++) {
    for (let x = 0; x < S; x++, p++) {
      const id = instances[p];
      if (id === 0) continue;
      const b = 4 * (id - 1);
      areas[id - 1]++;
      if (x < boxes[b]) boxes[b] = x;
      if (y < boxes[b + 1]) boxes[b + 1] = y;
      if (x + 1 > boxes[b + 2]) boxes[b + 2] = x + 1;
      if (y + 1 > boxes[b + 3]) boxes[b + 3] = y + 1;
    }
  }
  return { image: { data, height: S, width: S }, boxes, labels: Int32Array.from(labels), areas, instances };
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function iou(x1: number, y1: number, x2: number, y2: number, q: { x1: number; y1: number; x2: number; y2: number }): number {
  const iw = Math.min(x2, q.x2) - Math.max(x1, q.x1);
  const ih = Math.min(y2, q.y2) - Math.max(y1, q.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((x2 - x1) * (y2 - y1) + (q.x2 - q.x1) * (q.y2 - q.y1) - inter);
}

// Distractors that are not objects: low-contrast lumpy blobs (unions of discs) and thin lines.
function drawClutter(rng: () => number, data: Uint8Array, S: number, bgAt: (x: number, y: number) => number[]): void {
  const blobs = 2 + Math.floor(rng() * 4);
  for (let b = 0; b < blobs; b++) {
    const bx = rng() * S, by = rng() * S;
    const tint = randomColor(rng);
    const mix = 0.15 + rng() * 0.2;
    const base = bgAt(bx, by);
    const color = base.map((c, i) => c + (tint[i] - c) * mix);
    const spread = S * (0.03 + rng() * 0.08);
    const discs = 4 + Math.floor(rng() * 4);
    for (let d = 0; d < discs; d++) {
      const cx = bx + (rng() - 0.5) * 2 * spread, cy = by + (rng() - 0.5) * 2 * spread;
      const r = spread * (0.3 + rng() * 0.4);
      fillDisc(data, S, cx, cy, r, color);
    }
  }
  const lines = 3 + Math.floor(rng() * 6);
  for (let l = 0; l < lines; l++) {
    const x0 = rng() * S, y0 = rng() * S;
    const len = S * (0.1 + rng() * 0.5), a = rng() * 2 * Math.PI;
    const x1 = x0 + len * Math.cos(a), y1 = y0 + len * Math.sin(a);
    const t = 1 + Math.floor(rng() * 2);
    const color = randomColor(rng);
    const steps = Math.ceil(len * 2);
    for (let s = 0; s <= steps; s++) {
      const x = Math.floor(x0 + ((x1 - x0) * s) / steps), y = Math.floor(y0 + ((y1 - y0) * s) / steps);
      for (let yy = y; yy < y + t; yy++) {
        for (let xx = x; xx < x + t; xx++) {
          if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
          const p = 3 * (yy * S + xx);
          data[p] = color[0]; data[p + 1] = color[1]; data[p + 2] = color[2];
        }
      }
    }
  }
}

function fillDisc(data: Uint8Array, S: number, cx: number, cy: number, r: number, color: number[]): void {
  const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(S, Math.ceil(cy + r));
  for (let y = y0; y < y1; y++) {
    const dy = y + 0.5 - cy;
    const half = Math.sqrt(Math.max(0, r * r - dy * dy));
    const x0 = Math.max(0, Math.ceil(cx - half - 0.5)), x1 = Math.min(S, Math.floor(cx + half - 0.5) + 1);
    for (let x = x0; x < x1; x++) {
      const p = 3 * (y * S + x);
      data[p] = color[0]; data[p + 1] = color[1]; data[p + 2] = color[2];
    }
  }
}

/** Options of {@link makeShapesDataset}: where, how many images, the seed, and how each is drawn. */
export interface ShapesDatasetOptions extends ShapesOptions {
  /** Output directory: `instances.json` and `images/NNNNNN.png` are written there. */
  dir: string;
  /** Number of images. */
  images: number;
  seed: number;
}

/** What {@link makeShapesDataset} wrote: the annotations file, the image folder, the categories and the counts. */
export interface ShapesDatasetInfo {
  annotationsPath: string;
  imageDir: string;
  categories: { id: number; name: string }[];
  images: number;
  annotations: number;
}

/**
 * Writes a COCO-format shapes dataset. Image i depends only on (seed, i), so a larger dataset
 * extends a smaller one, and the same options give the same bytes. Category ids are 1..classes.
 */
export function makeShapesDataset(options: ShapesDatasetOptions): ShapesDatasetInfo {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { dir, images, seed } = options;
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a non-empty string');
  checkPositiveInt('images', images, 10_000_000);
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${String(seed)}`);
  const o = resolve(options);
  const imageDir = path.join(dir, 'images');
  fs.mkdirSync(imageDir, { recursive: true });

  const categories = shapeClassNames(o.classes).map((name, k) => ({ id: k + 1, name, supercategory: 'shape' }));
  const seeds = prng(seed);
  const imageEntries: object[] = [];
  const annotations: object[] = [];
  for (let i = 0; i < images; i++) {
    const g = generateShapesImage(prng(Math.floor(seeds() * 4294967296)), options);
    const fileName = `${String(i + 1).padStart(6, '0')}.png`;
    writeFileAtomic(path.join(imageDir, fileName), encodePng(g.image));
    imageEntries.push({ id: i + 1, file_name: fileName, height: o.size, width: o.size });
    for (let j = 0; j < g.labels.length; j++) {
      const [x1, y1, x2, y2] = g.boxes.subarray(4 * j, 4 * j + 4);
      annotations.push({
        id: annotations.length + 1, image_id: i + 1, category_id: g.labels[j] + 1,
        bbox: [x1, y1, x2 - x1, y2 - y1], area: g.areas[j], iscrowd: 0,
      });
    }
  }
  const annotationsPath = path.join(dir, 'instances.json');
  const json = {
    info: { description: 'tfjs-retinanet synthetic shapes', seed, size: o.size },
    images: imageEntries, annotations, categories,
  };
  writeFileAtomic(annotationsPath, JSON.stringify(json));
  return {
    annotationsPath, imageDir, images,
    categories: categories.map(({ id, name }) => ({ id, name })),
    annotations: annotations.length,
  };
}
