// Detections drawn onto a copy of an image: a box outline per detection in its class colour,
// and a filled tag "name 0.93" in the built-in bitmap font. Everything is clipped to the image.
import type { RgbImage } from '../data/image';
import { checkBoxes, checkImage, checkPositiveInt } from '../data/check';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixel, glyphRows, textWidth } from './font';
import { PALETTE, classColor, textColorOn } from './palette';
import type { Rgb } from './palette';

/** The detections {@link drawDetections} draws: boxes, class indices and optional scores of n objects. */
export interface Detections {
  /** [n, 4] x1, y1, x2, y2 in the image's pixels. */
  boxes: Float32Array;
  /** [n] class indices (0..K-1), e.g. postprocess's `classes` or a dataset's `labels`. */
  classes: Int32Array;
  /** [n] scores; omitted: tags show the class name only. */
  scores?: Float32Array;
}

/** Options of {@link drawDetections}. */
export interface DrawOptions {
  /** Name of each class index; missing names show the index. */
  classNames?: readonly string[];
  /** Outline thickness in pixels (default 2). */
  lineWidth?: number;
  /** Integer magnification of the 5×7 font (default 1). */
  fontScale?: number;
  /** Class colours (default PALETTE). */
  palette?: readonly Rgb[];
  /** Draw the tags (default true). */
  labels?: boolean;
}

/** A new image with the detections drawn; the input image is not modified. */
export function drawDetections(image: RgbImage, detections: Detections, options: DrawOptions = {}): RgbImage {
  const { height: H, width: W } = checkImage('image', image);
  if (typeof detections !== 'object' || detections === null) throw new TypeError('detections must be { boxes, classes, scores? }');
  const { boxes, classes, scores } = detections;
  const n = checkBoxes('detections.boxes', boxes);
  if (!(classes instanceof Int32Array) || classes.length !== n) throw new TypeError(`detections.classes must be an Int32Array of ${n} class indices`);
  if (scores !== undefined && (!(scores instanceof Float32Array) || scores.length !== n)) {
    throw new TypeError(`detections.scores must be a Float32Array of ${n} scores`);
  }
  for (let i = 0; i < boxes.length; i++) {
    if (Number.isNaN(boxes[i])) throw new RangeError(`detections.boxes[${i}] is NaN`);
  }
  const lw = checkPositiveInt('lineWidth', options.lineWidth ?? 2, 64);
  const fs = checkPositiveInt('fontScale', options.fontScale ?? 1, 16);
  const palette = options.palette ?? PALETTE;
  if (!Array.isArray(palette) || palette.length === 0) throw new TypeError('palette must be a non-empty array of [r, g, b]');
  const names = options.classNames ?? [];

  const out: RgbImage = { data: Uint8Array.from(image.data), height: H, width: W };
  const fill = (x0: number, y0: number, x1: number, y1: number, c: Rgb) => fillRect(out, x0, y0, x1, y1, c);

  // Outlines first, then tags, so no outline crosses a tag.
  const rects: [number, number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const x0 = Math.round(clampCoord(boxes[4 * i], W)), y0 = Math.round(clampCoord(boxes[4 * i + 1], H));
    const x1 = Math.round(clampCoord(boxes[4 * i + 2], W)), y1 = Math.round(clampCoord(boxes[4 * i + 3], H));
    rects.push([x0, y0, x1, y1]);
    if (x1 <= x0 || y1 <= y0) continue;
    const c = classColor(classes[i], palette);
    // The outline lies inside the box, so it marks the box's own pixels.
    fill(x0, y0, x1, Math.min(y1, y0 + lw), c);
    fill(x0, Math.max(y0, y1 - lw), x1, y1, c);
    fill(x0, y0, Math.min(x1, x0 + lw), y1, c);
    fill(Math.max(x0, x1 - lw), y0, x1, y1, c);
  }
  if (options.labels === false) return out;
  for (let i = 0; i < n; i++) {
    const [x0, y0, x1, y1] = rects[i];
    if (x1 <= x0 || y1 <= y0) continue;
    const k = classes[i];
    const name = names[k] ?? String(k);
    const text = scores === undefined ? name : `${name} ${scores[i].toFixed(2)}`;
    const c = classColor(k, palette);
    const tw = textWidth(text, fs) + 2 * fs, th = GLYPH_HEIGHT * fs + 2 * fs;
    // Above the box when there is room, else just inside its top edge.
    const ty = y0 - th >= 0 ? y0 - th : y0;
    const tx = Math.min(x0, Math.max(0, W - tw));
    fill(tx, ty, tx + tw, ty + th, c);
    drawText(out, text, tx + fs, ty + fs, fs, textColorOn(c));
  }
  return out;
}

function clampCoord(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}

/** Fills [x0, x1) × [y0, y1), clipped to the image. */
export function fillRect(image: RgbImage, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const { data, height, width } = image;
  const xa = Math.max(0, Math.floor(x0)), xb = Math.min(width, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0)), yb = Math.min(height, Math.ceil(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa, p = (y * width + xa) * 3; x < xb; x++, p += 3) {
      data[p] = c[0]; data[p + 1] = c[1]; data[p + 2] = c[2];
    }
  }
}

/** Draws `text` with its top-left at (x, y), each font pixel a scale × scale square; clipped. */
export function drawText(image: RgbImage, text: string, x: number, y: number, scale: number, c: Rgb): void {
  for (let i = 0; i < text.length; i++) {
    const rows = glyphRows(text[i]);
    const gx = x + i * GLYPH_ADVANCE * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (glyphPixel(rows, col, r)) fillRect(image, gx + col * scale, y + r * scale, gx + (col + 1) * scale, y + (r + 1) * scale, c);
      }
    }
  }
}
