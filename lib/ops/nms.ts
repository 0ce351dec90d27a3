import { native, NmsParamsArg } from '../runtime/addon';
import * as v from './validate';

export interface NmsOptions extends v.DeviceOptions {
  /** Keep at most this many (the best by score). Default: all. */
  maxOutput?: number;
  /** Only candidates with score > scoreThreshold take part. Default: all. */
  scoreThreshold?: number;
}

const KNOWN = ['maxOutput', 'scoreThreshold'] as const;

interface NmsCall {
  boxes: Float32Array;
  scores: Float32Array;
  groups: Int32Array | null;
  params: NmsParamsArg;
  cuda: boolean;
}

function checked(
  boxes: unknown, scores: unknown, groupIds: unknown, iouThreshold: unknown, options: unknown,
): NmsCall {
  const o = v.options('options', options, KNOWN);
  const dev = v.device(o.device);
  const b = v.boxes('boxes', boxes);
  const s = v.finiteValues('scores', v.float32Array('scores', scores));
  if (b.length !== s.length * 4) {
    throw new RangeError(`boxes: ${b.length / 4} boxes for ${s.length} scores`);
  }
  let groups: Int32Array | null = null;
  if (groupIds !== null) {
    groups = v.int32Array('groupIds', groupIds);
    if (groups.length !== s.length) throw new RangeError(`groupIds: length ${groups.length}, expected ${s.length}`);
  }
  const iou = v.numberIn('iouThreshold', iouThreshold, 0, 1);
  const maxOutput = o.maxOutput === undefined ? -1 : v.integer('maxOutput', o.maxOutput, 0);
  const useScore = o.scoreThreshold !== undefined;
  const scoreThreshold = useScore ? v.number('scoreThreshold', o.scoreThreshold) : 0;
  return { boxes: b, scores: s, groups, params: { iouThreshold: iou, maxOutput, useScoreThreshold: useScore, scoreThreshold }, cuda: dev === 'cuda' };
}

function run(c: NmsCall): Int32Array {
  return native().batchedNms(c.boxes, c.scores, c.groups, c.params, c.cuda);
}

function runAsync(c: NmsCall): Promise<Int32Array> {
  // The worker reads its inputs off the main thread: it gets private copies, so a caller that
  // detaches (transfers) or rewrites its buffers meanwhile changes nothing and frees nothing.
  return native().batchedNmsAsync(c.boxes.slice(), c.scores.slice(), c.groups ? c.groups.slice() : c.groups, c.params, c.cuda);
}

/**
 * Greedy NMS: candidates by score (descending, ties by lower index); a box is dropped when its
 * IoU with a kept box is > `iouThreshold` (float32 IoU, as torchvision). Returns the kept
 * indices in that order. Scores must be finite.
 */
export function nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number, options?: NmsOptions): Int32Array {
  return run(checked(boxes, scores, null, iouThreshold, options));
}

/**
 * NMS within groups (classes, or class × image): boxes of different groups never suppress each
 * other. Kept indices over all groups, by score (ties by lower index), at most `maxOutput`.
 */
export function batchedNms(
  boxes: Float32Array, scores: Float32Array, groupIds: Int32Array, iouThreshold: number, options?: NmsOptions,
): Int32Array {
  if (groupIds === null) throw new TypeError('groupIds: expected an Int32Array, got null');
  return run(checked(boxes, scores, groupIds, iouThreshold, options));
}

/** {@link nms} on libuv's thread pool. Do not write to the inputs until it settles. */
export async function nmsAsync(
  boxes: Float32Array, scores: Float32Array, iouThreshold: number, options?: NmsOptions,
): Promise<Int32Array> {
  return runAsync(checked(boxes, scores, null, iouThreshold, options));
}

/** {@link batchedNms} on libuv's thread pool. Do not write to the inputs until it settles. */
export async function batchedNmsAsync(
  boxes: Float32Array, scores: Float32Array, groupIds: Int32Array, iouThreshold: number, options?: NmsOptions,
): Promise<Int32Array> {
  if (groupIds === null) throw new TypeError('groupIds: expected an Int32Array, got null');
  return runAsync(checked(boxes, scores, groupIds, iouThreshold, options));
}
