import { native } from '../runtime/addon';
import * as v from './validate';

export interface AnchorOptions extends v.DeviceOptions {
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Pyramid levels; level l has stride 2^l and a ceil(H / 2^l) × ceil(W / 2^l) map. Default [3, 4, 5, 6, 7]. */
  levels?: number[];
  /** Base anchor size per level. Default [32, 64, 128, 256, 512]. */
  sizes?: number[];
  /** Size multipliers. Default [2^0, 2^(1/3), 2^(2/3)]. */
  scales?: number[];
  /** Height / width ratios. Default [0.5, 1, 2]. */
  aspectRatios?: number[];
  /** Cell centre at ((x + offset)·stride, (y + offset)·stride). Default 0 (torchvision). */
  offset?: number;
  /**
   * 'torchvision' (default): scaled sizes truncated to whole pixels and cell anchors rounded, as
   * torchvision's RetinaNet; 'none': exact sizes, unrounded corners.
   */
  rounding?: 'torchvision' | 'none';
  /**
   * Where a level's cells sit. 'torchvision' (default): the stride of each axis is
   * floor(image side / feature map side), as torchvision's AnchorGenerator computes it from the
   * (padded) image: 2^l where the side is a multiple of 2^l, less on P6 / P7 otherwise (800
   * rows: P6 stride 61, P7 114). 'pow2': 2^l on both axes (Detectron's).
   */
  strides?: 'torchvision' | 'pow2';
}

/** One pyramid level's feature map and its slice of the anchors. */
export interface AnchorLevel {
  level: number;
  /** 2^level. */
  stride: number;
  /** The strides the cells are placed at (see AnchorOptions.strides). */
  strideY: number;
  strideX: number;
  /** Feature map rows. */
  height: number;
  /** Feature map columns. */
  width: number;
  /** Index of the level's first anchor. */
  start: number;
  /** Anchors in the level: height × width × A. */
  count: number;
}

/** What {@link generateAnchors} returns: all levels' anchors in one array, and where each level's are. */
export interface Anchors {
  /** `[N, 4]` x1, y1, x2, y2; order level, y, x, anchor (ratio-major, scale-minor). */
  anchors: Float32Array;
  levels: AnchorLevel[];
  /** Anchors per location, A = aspectRatios × scales. */
  anchorsPerLocation: number;
}

export const DEFAULT_LEVELS = [3, 4, 5, 6, 7];
export const DEFAULT_SIZES = [32, 64, 128, 256, 512];
export const DEFAULT_SCALES = [1, 2 ** (1 / 3), 2 ** (2 / 3)];
export const DEFAULT_ASPECT_RATIOS = [0.5, 1, 2];

const KNOWN = ['height', 'width', 'levels', 'sizes', 'scales', 'aspectRatios', 'offset', 'rounding', 'strides'] as const;

function positiveList(name: string, value: unknown, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const list = v.array(name, value);
  if (list.length === 0) throw new RangeError(`${name}: expected at least one value`);
  return list.map((x, i) => v.numberIn(`${name}[${i}]`, x, 0, Infinity, true));
}

interface AnchorPlan {
  levels: AnchorLevel[];
  spec: Float64Array;
  scales: number[];
  ratios: number[];
  offset: number;
  torchvisionRounding: boolean;
  anchorsPerLocation: number;
  device: v.Device;
}

/** Checks the options and lays out the levels (shared by the typed-array and tensor forms). */
export function planAnchors(options: AnchorOptions): AnchorPlan {
  if (options === undefined) throw new TypeError('options: expected { height, width, ... }');
  const o = v.options('options', options, KNOWN);
  const dev = v.device(o.device);
  const height = v.integer('height', o.height, 1, 2 ** 20);
  const width = v.integer('width', o.width, 1, 2 ** 20);
  const levelList = o.levels === undefined
    ? DEFAULT_LEVELS
    : v.array('levels', o.levels).map((l, i) => v.integer(`levels[${i}]`, l, 0, 20));
  const sizes = positiveList('sizes', o.sizes, DEFAULT_SIZES);
  if (sizes.length !== levelList.length) {
    throw new RangeError(`sizes: expected one size per level (${levelList.length}), got ${sizes.length}`);
  }
  const scales = positiveList('scales', o.scales, DEFAULT_SCALES);
  const ratios = positiveList('aspectRatios', o.aspectRatios, DEFAULT_ASPECT_RATIOS);
  const offset = o.offset === undefined ? 0 : v.numberIn('offset', o.offset, 0, 1);
  if (o.rounding !== undefined && o.rounding !== 'torchvision' && o.rounding !== 'none') {
    throw new TypeError(`rounding: expected 'torchvision' or 'none', got ${String(o.rounding)}`);
  }
  if (o.strides !== undefined && o.strides !== 'torchvision' && o.strides !== 'pow2') {
    throw new TypeError(`strides: expected 'torchvision' or 'pow2', got ${String(o.strides)}`);
  }
  const pow2 = o.strides === 'pow2';
  const a = scales.length * ratios.length;
  const spec = new Float64Array(levelList.length * 5);
  const levels: AnchorLevel[] = [];
  let start = 0;
  levelList.forEach((level, i) => {
    const stride = 2 ** level;
    const h = Math.ceil(height / stride);
    const w = Math.ceil(width / stride);
    const strideY = pow2 ? stride : Math.floor(height / h);
    const strideX = pow2 ? stride : Math.floor(width / w);
    spec.set([strideY, strideX, sizes[i], h, w], i * 5);
    levels.push({ level, stride, strideY, strideX, height: h, width: w, start, count: h * w * a });
    start += h * w * a;
  });
  v.resultSize('anchors', start * 4);
  return {
    levels, spec, scales, ratios, offset, torchvisionRounding: o.rounding !== 'none', anchorsPerLocation: a, device: dev,
  };
}

/** The anchors of a plan. */
export function anchorsOf(p: AnchorPlan): Float32Array {
  return native().generateAnchors(p.spec, {
    scales: new Float32Array(p.scales), aspectRatios: new Float32Array(p.ratios), offset: p.offset, torchvisionRounding: p.torchvisionRounding,
  }, p.device === 'cuda');
}

/** RetinaNet's anchors for one image size (all levels concatenated). */
export function generateAnchors(options: AnchorOptions): Anchors {
  const plan = planAnchors(options);
  return { anchors: anchorsOf(plan), levels: plan.levels, anchorsPerLocation: plan.anchorsPerLocation };
}
