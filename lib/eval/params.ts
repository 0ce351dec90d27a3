// pycocotools' default box-evaluation parameters, computed the way numpy computes them so that
// threshold comparisons agree bit for bit.

/**
 * `np.linspace(start, stop, num)`: `i * step + start` with `step = (stop - start) / (num - 1)`,
 * and the last value set to `stop` exactly. `i / (num - 1)` would differ in the last bit for
 * some i, and a recall or IoU that lands exactly on a threshold would then be counted differently.
 */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** IoU thresholds 0.50:0.05:0.95 (T = 10). */
export const IOU_THRS: readonly number[] = Object.freeze(linspace(0.5, 0.95, 10));
/** Recall points 0:0.01:1 (R = 101). */
export const REC_THRS: readonly number[] = Object.freeze(linspace(0, 1, 101));
/** Detections per image kept (M = 3); the last one bounds what `evaluateImg` matches. */
export const MAX_DETS: readonly number[] = Object.freeze([1, 10, 100]);
/** Inclusive area ranges, in the order all, small, medium, large (A = 4). */
export const AREA_RNG: readonly (readonly [number, number])[] = Object.freeze([
  Object.freeze([0 ** 2, 1e5 ** 2] as const),
  Object.freeze([0 ** 2, 32 ** 2] as const),
  Object.freeze([32 ** 2, 96 ** 2] as const),
  Object.freeze([96 ** 2, 1e5 ** 2] as const),
]);
export const AREA_LBL: readonly string[] = Object.freeze(['all', 'small', 'medium', 'large']);

/** Index of `iouThr` in IOU_THRS by exact equality, as `np.where(iouThr == p.iouThrs)`; -1 if absent. */
export function iouIndex(iouThr: number): number {
  return IOU_THRS.indexOf(iouThr);
}
