// The synthetic dataset's shape classes: each an inside test on a shape's own box mapped to
// [-1, 1]², tested at pixel centers, with hard edges so the drawn pixels have an exact tight box.
// Forms are chosen to differ in silhouette (corners, holes, concavities), since colour is random.

export const SHAPE_NAMES = ['square', 'circle', 'triangle', 'cross', 'diamond', 'ring', 'hexagon', 'star'] as const;
/** The name of a synthetic shape class. */
export type ShapeName = (typeof SHAPE_NAMES)[number];

// A 5-pointed star, apex up: outer radius 1, inner 0.45.
const STAR: number[] = [];
for (let k = 0; k < 10; k++) {
  const r = k % 2 === 0 ? 1 : 0.45;
  const a = -Math.PI / 2 + (k * Math.PI) / 5;
  STAR.push(r * Math.cos(a), r * Math.sin(a));
}

function inPolygon(poly: readonly number[], u: number, v: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 2; i < poly.length; j = i, i += 2) {
    const xi = poly[i], yi = poly[i + 1], xj = poly[j], yj = poly[j + 1];
    if ((yi > v) !== (yj > v) && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside tests, indexed like SHAPE_NAMES; u, v in [-1, 1] across the shape's box. */
export const SHAPE_TESTS: readonly ((u: number, v: number) => boolean)[] = [
  () => true,
  (u, v) => u * u + v * v <= 1,
  (u, v) => Math.abs(u) <= (v + 1) / 2,
  (u, v) => Math.abs(u) <= 0.3 || Math.abs(v) <= 0.3,
  (u, v) => Math.abs(u) + Math.abs(v) <= 1,
  (u, v) => { const r = u * u + v * v; return r <= 1 && r >= 0.3; },
  (u, v) => Math.abs(v) <= 2 * (1 - Math.abs(u)),
  (u, v) => inPolygon(STAR, u, v),
];
