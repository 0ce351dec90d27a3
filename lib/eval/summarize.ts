// pycocotools' `summarize()`: the 12 COCO numbers as means over the defined (> -1) entries of
// slices of precision / recall, and the text it prints.

import { AREA_LBL, MAX_DETS, iouIndex } from './params';
import type { CocoStats, NdArray } from './types';

/** numpy's pairwise summation (`pairwise_sum` in loops_utils.h), for bit-identical means. */
function pairwiseSum(a: ArrayLike<number>, lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/**
 * `np.mean` of a 1-D float64 array: the reduction runs over buffers of 8192 elements, each
 * summed pairwise. A plain loop would differ from pycocotools by ~1e-16, enough to flip a
 * printed third decimal in rare cases.
 */
export function numpyMean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let lo = 0; lo < values.length; lo += 8192) {
    sum += pairwiseSum(values, lo, Math.min(8192, values.length - lo));
  }
  return sum / values.length;
}

/**
 * Mean over the entries > -1 of `arr` with some axes fixed (`fixed[d]` an index, or undefined
 * for the whole axis), visited in C order as numpy's boolean mask does; -1 if there are none.
 */
export function meanDefined(arr: NdArray, fixed: readonly (number | undefined)[]): number {
  const { data, dims } = arr;
  const kept: number[] = [];
  const visit = (d: number, offset: number): void => {
    if (d === dims.length) {
      if (data[offset] > -1) kept.push(data[offset]);
      return;
    }
    const f = fixed[d];
    if (f !== undefined) {
      if (f >= 0 && f < dims[d]) visit(d + 1, offset * dims[d] + f);
      return;
    }
    for (let i = 0; i < dims[d]; i++) visit(d + 1, offset * dims[d] + i);
  };
  visit(0, 0);
  return kept.length === 0 ? -1 : numpyMean(kept);
}

/** `_summarize(ap, iouThr, areaRng, maxDets)` on precision `[T,R,K,A,M]` or recall `[T,K,A,M]`. */
export function summarizeOne(
  arr: NdArray, ap: boolean, iouThr: number | undefined, areaRng: string, maxDets: number,
): number {
  const a = AREA_LBL.indexOf(areaRng);
  const m = MAX_DETS.indexOf(maxDets);
  // An IoU that is not one of the thresholds selects nothing (np.where finds no index): -1.
  const t = iouThr === undefined ? undefined : iouIndex(iouThr);
  return meanDefined(arr, ap ? [t, undefined, undefined, a, m] : [t, undefined, a, m]);
}

export function computeStats(precision: NdArray, recall: NdArray): CocoStats {
  const [m1, m10, m100] = MAX_DETS;
  return [
    summarizeOne(precision, true, undefined, 'all', m100),
    summarizeOne(precision, true, 0.5, 'all', m100),
    summarizeOne(precision, true, 0.75, 'all', m100),
    summarizeOne(precision, true, undefined, 'small', m100),
    summarizeOne(precision, true, undefined, 'medium', m100),
    summarizeOne(precision, true, undefined, 'large', m100),
    summarizeOne(recall, false, undefined, 'all', m1),
    summarizeOne(recall, false, undefined, 'all', m10),
    summarizeOne(recall, false, undefined, 'all', m100),
    summarizeOne(recall, false, undefined, 'small', m100),
    summarizeOne(recall, false, undefined, 'medium', m100),
    summarizeOne(recall, false, undefined, 'large', m100),
  ];
}

/**
 * Python's `'{:0.3f}'.format(x)`: correctly rounded, exact ties to even. `toFixed` rounds exact
 * ties up, and the only doubles that tie at three decimals are odd multiples of 1/16 (0.0625,
 * 0.1875, …) — values a small evaluation can well produce.
 */
export function formatFixed3(x: number): string {
  const ax = Math.abs(x);
  const sixteenths = ax * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 === 1 && ax < 2 ** 40) {
    const lower = Math.floor(ax * 1000); // exact: ax * 1000 = lower + 0.5
    const n = lower % 2 === 0 ? lower : lower + 1;
    const digits = `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`;
    return x < 0 ? `-${digits}` : digits;
  }
  return x.toFixed(3);
}

const LINES: readonly (readonly [boolean, string, string, number])[] = [
  [true, '0.50:0.95', 'all', 100],
  [true, '0.50', 'all', 100],
  [true, '0.75', 'all', 100],
  [true, '0.50:0.95', 'small', 100],
  [true, '0.50:0.95', 'medium', 100],
  [true, '0.50:0.95', 'large', 100],
  [false, '0.50:0.95', 'all', 1],
  [false, '0.50:0.95', 'all', 10],
  [false, '0.50:0.95', 'all', 100],
  [false, '0.50:0.95', 'small', 100],
  [false, '0.50:0.95', 'medium', 100],
  [false, '0.50:0.95', 'large', 100],
];

/**
 * The 12 lines pycocotools' `summarize()` prints, character for character, joined by `\n`
 * (no trailing newline), e.g.
 * ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.362`.
 */
export function formatSummary(stats: readonly number[]): string {
  if (!Array.isArray(stats) || stats.length !== 12) {
    throw new TypeError('stats: expected the 12 numbers of evaluateCoco().stats');
  }
  return LINES.map(([ap, iou, area, maxDets], i) => {
    const v = stats[i];
    if (typeof v !== 'number') throw new TypeError(`stats[${i}]: expected a number, got ${typeof v}`);
    const title = (ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const kind = ap ? '(AP)' : '(AR)';
    return ` ${title} ${kind} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${formatFixed3(v)}`;
  }).join('\n');
}
