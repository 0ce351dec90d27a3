// Drawing detections onto images (pure TypeScript, RGB8 in, RGB8 out).
export { drawDetections, drawText, fillRect } from './draw-detections';
export type { Detections, DrawOptions } from './draw-detections';
export { PALETTE, classColor } from './palette';
export type { Rgb } from './palette';
export { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, textWidth } from './font';
