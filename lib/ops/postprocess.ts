import { native, PostprocessParamsArg } from '../runtime/addon';
import * as v from './validate';

/** One pyramid level's head output for the whole batch, and its anchors. */
export interface LevelOutput {
  /** `[B, H·W·A, K]` raw class logits, anchor-major. */
  logits: Float32Array;
  /** `[B, H·W·A, 4]` raw box deltas. */
  deltas: Float32Array;
  /** `[H·W·A, 4]` the level's anchors. */
  anchors: Float32Array;
}

export interface PostprocessOptions extends v.DeviceOptions {
  /** Per level, keep scores > this. Default 0.05. */
  scoreThreshold?: number;
  /** Per level, keep the best this many. Default 1000. */
  topKPerLevel?: number;
  /** Class-wise NMS threshold. Default 0.5. */
  nmsThreshold?: number;
  /** Detections per image. Default 100 (the paper's; torchvision's default is 300). */
  maxDetections?: number;
  /** Box-coder weights. Default [1, 1, 1, 1]. */
  weights?: ArrayLike<number>;
}

/** One image's detections from {@link postprocess}, best first. */
export interface Detections {
  /** `[d, 4]` x1, y1, x2, y2 clipped to the image. */
  boxes: Float32Array;
  /** `[d]` sigmoid scores, descending. */
  scores: Float32Array;
  /** `[d]` class indices. */
  classes: Int32Array;
}

interface PostprocessCall {
  levels: LevelOutput[];
  sizes: Float64Array;
  params: PostprocessParamsArg;
  cuda: boolean;
}

const KNOWN = ['scoreThreshold', 'topKPerLevel', 'nmsThreshold', 'maxDetections', 'weights'] as const;

function checked(levels: unknown, numClassesArg: unknown, imageSizes: unknown, options: unknown): PostprocessCall {
  const o = v.options('options', options, KNOWN);
  const dev = v.device(o.device);
  const numClasses = v.integer('numClasses', numClassesArg, 1);
  const images = v.array('imageSizes', imageSizes);
  const sizes = new Float64Array(images.length * 2);
  images.forEach((s, i) => {
    const hw = v.array(`imageSizes[${i}]`, s);
    if (hw.length !== 2) throw new RangeError(`imageSizes[${i}]: expected [height, width]`);
    sizes[2 * i] = v.numberIn(`imageSizes[${i}][0]`, hw[0], 0, Infinity, true);
    sizes[2 * i + 1] = v.numberIn(`imageSizes[${i}][1]`, hw[1], 0, Infinity, true);
  });
  const batch = images.length;
  const out: LevelOutput[] = v.array('levels', levels).map((lv, i) => {
    const name = `levels[${i}]`;
    if (lv === null || typeof lv !== 'object') throw new TypeError(`${name}: expected { logits, deltas, anchors }`);
    const { logits, deltas, anchors } = lv as Record<string, unknown>;
    const a = v.float32Array(`${name}.anchors`, anchors, 4);
    const l = v.float32Array(`${name}.logits`, logits);
    const d = v.float32Array(`${name}.deltas`, deltas);
    const n = a.length / 4;
    v.resultSize(`${name}.logits per image`, n * numClasses);
    if (l.length !== batch * n * numClasses) {
      throw new RangeError(`${name}.logits: length ${l.length}, expected B × anchors × K = ${batch} × ${n} × ${numClasses}`);
    }
    if (d.length !== batch * n * 4) {
      throw new RangeError(`${name}.deltas: length ${d.length}, expected B × anchors × 4 = ${batch} × ${n} × 4`);
    }
    return { logits: l, deltas: d, anchors: a };
  });
  return {
    levels: out, sizes,
    params: {
      numClasses,
      scoreThreshold: o.scoreThreshold === undefined ? 0.05 : v.numberIn('scoreThreshold', o.scoreThreshold, 0, 1),
      topKPerLevel: o.topKPerLevel === undefined ? 1000 : v.integer('topKPerLevel', o.topKPerLevel, 0),
      nmsThreshold: o.nmsThreshold === undefined ? 0.5 : v.numberIn('nmsThreshold', o.nmsThreshold, 0, 1),
      maxDetections: o.maxDetections === undefined ? 100 : v.integer('maxDetections', o.maxDetections, 0),
      weights: v.weights('weights', o.weights),
    },
    cuda: dev === 'cuda',
  };
}

function detections(raw: [Float32Array, Float32Array, Int32Array][]): Detections[] {
  return raw.map(([boxes, scores, classes]) => ({ boxes, scores, classes }));
}

/**
 * The paper's inference (§4.1) for a batch: per level, sigmoid scores > `scoreThreshold`, the top
 * `topKPerLevel`, decoded and clipped to the image; levels merged; NMS per class at
 * `nmsThreshold`; the best `maxDetections`. The same detections as torchvision's
 * `RetinaNet.postprocess_detections`. A NaN logit is a RangeError.
 */
export function postprocess(
  levels: LevelOutput[], numClasses: number, imageSizes: [number, number][], options?: PostprocessOptions,
): Detections[] {
  const c = checked(levels, numClasses, imageSizes, options);
  return detections(native().postprocess(c.levels, c.sizes, c.params, c.cuda));
}

/** {@link postprocess} on libuv's thread pool. Do not write to the inputs until it settles. */
export async function postprocessAsync(
  levels: LevelOutput[], numClasses: number, imageSizes: [number, number][], options?: PostprocessOptions,
): Promise<Detections[]> {
  const c = checked(levels, numClasses, imageSizes, options);
  // The worker reads its inputs off the main thread: it gets private copies, so a caller that
  // detaches (transfers) or rewrites its buffers meanwhile changes nothing and frees nothing.
  const own: PostprocessCall = { ...c, levels: c.levels.map((lv) => ({ logits: lv.logits.slice(), deltas: lv.deltas.slice(), anchors: lv.anchors.slice() })) };
  return detections(await native().postprocessAsync(own.levels, own.sizes, own.params, own.cuda));
}
