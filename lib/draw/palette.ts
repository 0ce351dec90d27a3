// Class colours: a fixed list so a class keeps its colour across images and runs.
/** A colour as [r, g, b], each 0..255. */
export type Rgb = readonly [number, number, number];

export const PALETTE: readonly Rgb[] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
  [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
  [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
  [170, 255, 195], [128, 128, 0], [255, 215, 180], [0, 0, 128], [128, 128, 128],
];

/** Colour of class k (wraps around the palette). */
export function classColor(k: number, palette: readonly Rgb[] = PALETTE): Rgb {
  return palette[((k % palette.length) + palette.length) % palette.length];
}

/** Black or white, whichever reads better on `c` (Rec. 601 luma). */
export function textColorOn(c: Rgb): Rgb {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140 ? [0, 0, 0] : [255, 255, 255];
}
