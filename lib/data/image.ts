// Image files in and out: PNG (pngjs) and JPEG (jpeg-js), both pure JS so no native image
// library is needed. Every decoded image is RGB8, height-width-channel order.
import * as fs from 'fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { writeFileAtomic } from './atomic-write';
import { checkImage } from './check';

/** RGB, 8 bits per channel, row-major height × width × 3. */
export interface RgbImage {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Limits of {@link decodeImage} (and readImage) on JPEG input. */
export interface DecodeOptions {
  /** JPEG only: refuse to decode when jpeg-js would need more memory (default 4096 MB). */
  maxMemoryMB?: number;
  /** JPEG only: refuse images larger than this many megapixels (default 250). */
  maxMegapixels?: number;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** The format by magic bytes (file extensions lie). */
export function imageFormat(bytes: Uint8Array): 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'tiff' | 'unknown' {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (startsWith(bytes, [0x42, 0x4d])) return 'bmp';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && bytes.length >= 12 &&
    String.fromCharCode(bytes[8], bytes[9], bytes[10], bytes[11]) === 'WEBP') return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  return 'unknown';
}

function decodePng(bytes: Buffer): RgbImage {
  // pngjs expands palette, gray and low/16-bit depths to RGBA8 (16-bit: round(v * 255 / 65535)).
  const png = PNG.sync.read(bytes);
  const { width, height } = png;
  const rgba = png.data;
  const out = new Uint8Array(width * height * 3);
  // Alpha is dropped, as PIL's convert('RGB') does. pngjs zeroes pixels matching a tRNS colour
  // key (gray/RGB images); those pixels were exactly that colour, so put it back.
  const key = (png as unknown as { transColor?: number[] }).transColor;
  const keyed = key !== undefined && (png.colorType === 0 || png.colorType === 2);
  const scale = png.depth === 16 ? 1 / 257 : 255 / ((1 << png.depth) - 1);
  const kr = keyed ? Math.round(key[0] * scale) : 0;
  const kg = keyed ? Math.round(key[key.length === 1 ? 0 : 1] * scale) : 0;
  const kb = keyed ? Math.round(key[key.length === 1 ? 0 : 2] * scale) : 0;
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    if (keyed && rgba[i + 3] === 0) {
      out[j] = kr; out[j + 1] = kg; out[j + 2] = kb;
    } else {
      out[j] = rgba[i]; out[j + 1] = rgba[i + 1]; out[j + 2] = rgba[i + 2];
    }
  }
  return { data: out, height, width };
}

function decodeJpeg(bytes: Buffer, o: DecodeOptions): RgbImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    // Tolerant mode only skips MCUs beyond the frame, which some encoders write; truncated or
    // corrupt data still throws ("marker was not found").
    tolerantDecoding: true,
    // jpeg-js needs 10–18 bytes per pixel; its 512 MB default refuses 30–40 MP camera photos.
    maxMemoryUsageInMB: o.maxMemoryMB ?? 4096,
    maxResolutionInMP: o.maxMegapixels ?? 250,
  });
  if (img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height * 3) {
    throw new Error(`decoded ${img.width}x${img.height} with ${img.data.length} bytes`);
  }
  return { data: img.data, height: img.height, width: img.width };
}

/** Decodes PNG or JPEG bytes; `name` (a path) goes into error messages. */
export function decodeImage(bytes: Uint8Array, name = '<buffer>', options: DecodeOptions = {}): RgbImage {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array or Buffer');
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = imageFormat(buf);
  if (format !== 'png' && format !== 'jpeg') {
    const what = format === 'unknown' ? (buf.length === 0 ? 'an empty file' : 'not a PNG or JPEG file') :
      `${format.toUpperCase()}, which is not supported (PNG and JPEG are)`;
    throw new Error(`${name}: cannot read image: ${what}`);
  }
  try {
    return format === 'png' ? decodePng(buf) : decodeJpeg(buf, options);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`${name}: corrupt or truncated ${format.toUpperCase()} (${why})`, { cause: e });
  }
}

/**
 * Reads and decodes a PNG or JPEG file to RGB8. Alpha is dropped and EXIF orientation is not
 * applied: pixels in stored order, which is what COCO's boxes refer to (as PIL's Image.open).
 */
export function readImage(path: string, options: DecodeOptions = {}): RgbImage {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  return decodeImage(fs.readFileSync(path), path, options);
}

/**
 * Encodes an RGB8 image as an 8-bit RGB PNG. Returns a Node Buffer, declared as the Uint8Array it
 * is so that the package's types need no @types/node.
 */
export function encodePng(image: RgbImage): Uint8Array {
  const { data, height, width } = checkImage('image', image);
  // pngjs reads `data` only; a view avoids copying the caller's pixels.
  const png = { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  // One filter (Sub) for every row instead of pngjs's per-row trial of all five: 5x faster to
  // write (the demo writes 1,400 images) and on the synthetic images also smaller.
  return PNG.sync.write(png as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8, filterType: 1 });
}

/** Writes an RGB8 image as PNG, atomically (temp file in the same directory, then rename). */
export function writePng(path: string, image: RgbImage): void {
  writeFileAtomic(path, encodePng(image));
}
