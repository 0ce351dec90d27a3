// pycocotools' `accumulate()`: per category, area range and detection limit, rank the kept
// detections of all images by score and turn the running TP / FP counts into the interpolated
// precision at the 101 recall points.

import { FP, TP, type ImageEvals } from './evaluate-images';

export interface Accumulated {
  /** `[T, R, K, A, M]`, -1 where undefined. */
  precision: Float64Array;
  /** `[T, K, A, M]`, -1 where undefined. */
  recall: Float64Array;
  /** `[T, R, K, A, M]`, -1 where undefined. */
  scores: Float64Array;
}

/** numpy's `np.spacing(1)`: keeps `tp / (tp + fp)` defined before the first detection counts. */
const EPS = 2 ** -52;

export function accumulate(
  ev: ImageEvals, K: number, T: number, A: number,
  recThrs: readonly number[], maxDets: readonly number[],
): Accumulated {
  const R = recThrs.length;
  const M = maxDets.length;
  const AT = A * T;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const scores = new Float64Array(T * R * K * A * M).fill(-1);

  let order = new Int32Array(0);
  let codes = new Uint8Array(0);
  let score = new Float64Array(0);
  let rank = new Int32Array(0);
  let prTp = new Float64Array(1);
  let scoreTp = new Float64Array(1);
  for (let k = 0; k < K; k++) {
    if (ev.catPresent[k] === 0) continue;
    const start = ev.catStart[k];
    const n = ev.catStart[k + 1] - start;
    if (order.length < n) {
      order = new Int32Array(n);
      codes = new Uint8Array(AT * n);
      score = new Float64Array(n);
      rank = new Int32Array(n);
      prTp = new Float64Array(n + 1);
      scoreTp = new Float64Array(n + 1);
    }
    // One stable sort by score (ties in image order, then rank) serves every maxDet: the
    // detections kept under a smaller limit are a subsequence in the same relative order.
    for (let i = 0; i < n; i++) order[i] = start + i;
    order.subarray(0, n).sort((a, b) => ev.score[b] - ev.score[a] || a - b);
    // Gather codes in ranked order, one contiguous run per (area, threshold).
    for (let i = 0; i < n; i++) {
      const p = order[i];
      score[i] = ev.score[p];
      rank[i] = ev.rank[p];
      for (let c = 0; c < AT; c++) codes[c * n + i] = ev.codes[p * AT + c];
    }
    for (let m = 0; m < M; m++) {
      const maxDet = maxDets[m];
      for (let a = 0; a < A; a++) {
        const npig = ev.npig[k * A + a];
        if (npig === 0) continue;
        for (let t = 0; t < T; t++) {
          // pycocotools builds rc = tp / npig and pr = tp / (tp + fp + eps) at every ranked
          // detection, takes pr's suffix maximum, and reads it at searchsorted(rc, recThrs).
          // rc only rises at true positives and pr only rises there too, so those positions
          // (and the first detection) are all it ever reads: record just them, same formulas.
          const run = (a * T + t) * n;
          let tp = 0;
          let fp = 0;
          let nd = 0;
          let pr0 = 0;
          let score0 = 0;
          for (let i = 0; i < n; i++) {
            if (rank[i] >= maxDet) continue;
            const c = codes[run + i];
            if (c === TP) {
              tp++;
              prTp[tp] = tp / (fp + tp + EPS);
              scoreTp[tp] = score[i];
            } else if (c === FP) {
              fp++;
            }
            if (nd === 0) {
              pr0 = tp / (fp + tp + EPS);
              score0 = score[i];
            }
            nd++;
          }
          recall[((t * K + k) * A + a) * M + m] = nd > 0 ? tp / npig : 0;
          // Interpolated precision: the best precision at this recall or beyond.
          for (let c = tp - 1; c >= 1; c--) if (prTp[c + 1] > prTp[c]) prTp[c] = prTp[c + 1];
          if (tp >= 1 && prTp[1] > pr0) pr0 = prTp[1];
          // First position whose recall reaches each point: the c-th true positive for the
          // smallest c with c / npig >= r (the first detection when c = 0); none: precision 0.
          let c = 0;
          for (let r = 0; r < R; r++) {
            while (c <= tp && c / npig < recThrs[r]) c++;
            const at = (((t * R + r) * K + k) * A + a) * M + m;
            const reached = nd > 0 && c <= tp;
            precision[at] = !reached ? 0 : c === 0 ? pr0 : prTp[c];
            scores[at] = !reached ? 0 : c === 0 ? score0 : scoreTp[c];
          }
        }
      }
    }
  }
  return { precision, recall, scores };
}
