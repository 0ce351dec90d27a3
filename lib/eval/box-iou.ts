// IoU of COCO xywh boxes in float64, written as pycocotools' `bbIou` (maskApi.c) computes it, so
// values that land exactly on a threshold compare the same way.

/**
 * IoU of detections `dt` (rows of `dtIdx` in `dtBox`) against ground truth `gt` (rows of `gtIdx`
 * in `gtBox`), written to `out[d * G + g]`. For a crowd ground truth the union is the
 * detection's own area: a detection that lies inside a crowd region overlaps it fully.
 */
export function bbIou(
  dtBox: Float64Array, dtIdx: ArrayLike<number>,
  gtBox: Float64Array, gtIdx: ArrayLike<number>, gtCrowd: Uint8Array,
  out: Float64Array,
): void {
  const D = dtIdx.length;
  const G = gtIdx.length;
  for (let g = 0; g < G; g++) {
    const o = 4 * gtIdx[g];
    const gx = gtBox[o], gy = gtBox[o + 1], gw = gtBox[o + 2], gh = gtBox[o + 3];
    const ga = gw * gh;
    const crowd = gtCrowd[gtIdx[g]] === 1;
    for (let d = 0; d < D; d++) {
      const p = 4 * dtIdx[d];
      const dx = dtBox[p], dy = dtBox[p + 1], dw = dtBox[p + 2], dh = dtBox[p + 3];
      const da = dw * dh;
      out[d * G + g] = 0;
      const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
      if (w <= 0) continue;
      const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
      if (h <= 0) continue;
      const i = w * h;
      out[d * G + g] = i / (crowd ? da : da + ga - i);
    }
  }
}
