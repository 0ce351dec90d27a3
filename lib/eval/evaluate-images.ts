// pycocotools' `evaluate()`: for every (category, image) pair that has ground truth or
// detections, match the image's best detections to its ground truth at every IoU threshold and
// area range. The result is one code per (area, threshold, kept detection) — true positive,
// false positive or ignored — which is all that `accumulate()` reads.

import { bbIou } from './box-iou';
import type { PackedDets, PackedGts } from './validate';

export const FP = 0;
export const TP = 1;
export const IGNORED = 2;

export interface ImageEvals {
  /** Kept detections (best `maxDet` of each image and category), grouped by category, then image. */
  numKept: number;
  /** Score of each kept detection. */
  score: Float64Array;
  /** Rank of each kept detection among its image's detections of the same category (0 = best). */
  rank: Int32Array;
  /** `[numKept, A, T]` codes FP / TP / IGNORED (a detection's codes together: accumulate gathers them). */
  codes: Uint8Array;
  /** Per category, the range of its kept detections: `[catStart[k], catStart[k + 1])`. */
  catStart: Int32Array;
  /** Per category: whether any image has ground truth or detections of it (pycocotools' E ≠ []). */
  catPresent: Uint8Array;
  /** `[K, A]` non-ignored ground truth (pycocotools' `npig`). */
  npig: Int32Array;
}

/** Entries grouped by (category, image): group g holds `members[start[g] … start[g + 1])`. */
interface Groups {
  /** `k * I + i`, ascending: category-major, image-minor, the order pycocotools concatenates in. */
  keys: Float64Array;
  start: Int32Array;
  /** Entry indices, in input order within each group. */
  members: Int32Array;
}

/**
 * Groups entries by (category, image) with one numeric sort instead of a Map per key (the hot
 * spot at COCO scale). Entries of images or categories not evaluated are dropped.
 */
function groupBy(
  imageId: Float64Array, categoryId: Float64Array,
  imgIndex: Map<number, number>, catIndex: Map<number, number>,
): Groups {
  const I = imgIndex.size;
  const key = new Float64Array(imageId.length);
  const entry = new Int32Array(imageId.length);
  let n = 0;
  for (let j = 0; j < imageId.length; j++) {
    const i = imgIndex.get(imageId[j]);
    const k = catIndex.get(categoryId[j]);
    if (i === undefined || k === undefined) continue;
    key[n] = k * I + i;
    entry[n++] = j;
  }
  // Order by (key, input position). Packed as key * n + position, one native sort does it
  // while that stays an exact integer; past 2^53 fall back to a comparator.
  const order = new Int32Array(n);
  if (catIndex.size * I * n <= Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(n);
    for (let q = 0; q < n; q++) packed[q] = key[q] * n + q;
    packed.sort();
    for (let q = 0; q < n; q++) order[q] = packed[q] % n;
  } else {
    for (let q = 0; q < n; q++) order[q] = q;
    order.sort((a, b) => key[a] - key[b] || a - b);
  }
  const keys: number[] = [];
  const start: number[] = [];
  const members = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const kq = key[order[q]];
    if (q === 0 || kq !== keys[keys.length - 1]) { keys.push(kq); start.push(q); }
    members[q] = entry[order[q]];
  }
  start.push(n);
  return { keys: Float64Array.from(keys), start: Int32Array.from(start), members };
}

export function evaluateImages(
  gts: PackedGts, dets: PackedDets,
  imageIds: readonly number[], categoryIds: readonly number[],
  iouThrs: readonly number[], areaRng: readonly (readonly [number, number])[], maxDet: number,
): ImageEvals {
  const I = imageIds.length;
  const K = categoryIds.length;
  const T = iouThrs.length;
  const A = areaRng.length;
  const imgIndex = new Map(imageIds.map((id, i) => [id, i]));
  const catIndex = new Map(categoryIds.map((id, k) => [id, k]));
  const gtGroups = groupBy(gts.imageId, gts.categoryId, imgIndex, catIndex);
  const dtGroups = groupBy(dets.imageId, dets.categoryId, imgIndex, catIndex);

  // Sort each image's detections by score, highest first (numpy's stable mergesort: ties keep
  // input order), and keep the best maxDet; this fixes the kept set and its layout.
  let numKept = 0;
  for (let g = 0; g < dtGroups.keys.length; g++) {
    const list = dtGroups.members.subarray(dtGroups.start[g], dtGroups.start[g + 1]);
    if (list.length > 1) list.sort((a, b) => dets.score[b] - dets.score[a] || a - b);
    numKept += Math.min(list.length, maxDet);
  }

  const score = new Float64Array(numKept);
  const rank = new Int32Array(numKept);
  const dtArea = new Float64Array(numKept);
  const codes = new Uint8Array(A * T * numKept);
  const catStart = new Int32Array(K + 1);
  const catPresent = new Uint8Array(K);
  const npig = new Int32Array(K * A);

  let ious = new Float64Array(0);
  let gtOrder = new Int32Array(0);
  let gtIg = new Uint8Array(0);
  let gtMatched = new Uint8Array(0);
  let pos = 0;
  let nextCat = 0;
  const empty: Int32Array = new Int32Array(0);
  // Walk the union of both groupings in key order (a merge of two sorted lists).
  for (let gi = 0, di = 0; gi < gtGroups.keys.length || di < dtGroups.keys.length;) {
    const gk = gi < gtGroups.keys.length ? gtGroups.keys[gi] : Infinity;
    const dk = di < dtGroups.keys.length ? dtGroups.keys[di] : Infinity;
    const key = Math.min(gk, dk);
    let gtList = empty;
    let dtAll = empty;
    if (gk === key) { gtList = gtGroups.members.subarray(gtGroups.start[gi], gtGroups.start[gi + 1]); gi++; }
    if (dk === key) { dtAll = dtGroups.members.subarray(dtGroups.start[di], dtGroups.start[di + 1]); di++; }
    const dtList = dtAll.subarray(0, Math.min(dtAll.length, maxDet));
    const k = (key - (key % I)) / I;
    while (nextCat <= k) catStart[nextCat++] = pos;
    catPresent[k] = 1;
    const G = gtList.length;
    const D = dtList.length;
    for (let d = 0; d < D; d++) {
      const j = dtList[d];
      score[pos + d] = dets.score[j];
      rank[pos + d] = d;
      dtArea[pos + d] = dets.box[4 * j + 2] * dets.box[4 * j + 3];
    }
    if (ious.length < D * G) ious = new Float64Array(D * G);
    if (gtOrder.length < G) {
      gtOrder = new Int32Array(G);
      gtIg = new Uint8Array(G);
      gtMatched = new Uint8Array(G);
    }
    if (D > 0 && G > 0) bbIou(dets.box, dtList, gts.box, gtList, gts.crowd, ious);

    for (let a = 0; a < A; a++) {
      const [lo, hi] = areaRng[a];
      if (G === 0) {
        // Nothing to match: every detection is a false positive, or ignored outside the range.
        for (let d = 0; d < D; d++) {
          const code = dtArea[pos + d] < lo || dtArea[pos + d] > hi ? IGNORED : FP;
          codes.fill(code, ((pos + d) * A + a) * T, ((pos + d) * A + a + 1) * T);
        }
        continue;
      }
      // Ground truth sorted with the ignored last, each part in input order (stable).
      let n = 0;
      for (let pass = 0; pass < 2; pass++) {
        for (let g = 0; g < G; g++) {
          const j = gtList[g];
          const area = gts.area[j];
          const ig = gts.crowd[j] === 1 || area < lo || area > hi ? 1 : 0;
          if (ig !== pass) continue;
          gtOrder[n] = g;
          gtIg[n] = ig;
          n++;
        }
        if (pass === 0) npig[k * A + a] += n;
      }
      for (let t = 0; t < T; t++) {
        gtMatched.fill(0, 0, G);
        const thr = Math.min(iouThrs[t], 1 - 1e-10);
        for (let d = 0; d < D; d++) {
          let best = thr;
          let m = -1;
          for (let s = 0; s < G; s++) {
            const g = gtOrder[s];
            // A matched ground truth is taken, unless it is a crowd region.
            if (gtMatched[s] === 1 && gts.crowd[gtList[g]] === 0) continue;
            // Once matched to a regular object, never trade it for an ignored one (they come last).
            if (m > -1 && gtIg[m] === 0 && gtIg[s] === 1) break;
            const v = ious[d * G + g];
            if (v < best) continue;
            best = v;
            m = s;
          }
          if (m === -1) {
            // Unmatched: a false positive, unless its own area is outside the range.
            codes[((pos + d) * A + a) * T + t] = dtArea[pos + d] < lo || dtArea[pos + d] > hi ? IGNORED : FP;
          } else {
            gtMatched[m] = 1;
            codes[((pos + d) * A + a) * T + t] = gtIg[m] === 1 ? IGNORED : TP;
          }
        }
      }
    }
    pos += D;
  }
  while (nextCat <= K) catStart[nextCat++] = pos;
  return { numKept, score, rank, codes, catStart, catPresent, npig };
}
