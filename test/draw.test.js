'use strict';
const test = require('ava');
const { drawDetections, drawText, PALETTE, classColor, textWidth, GLYPH_HEIGHT } = require('../dist/draw');
const { glyphRows } = require('../dist/draw/font');
const { generateShapesImage } = require('../dist/data');
const { prng } = require('../dist/util/prng');

function gray(h, w, v = 100) {
  return { data: new Uint8Array(h * w * 3).fill(v), height: h, width: w };
}

function changed(a, b) {
  const out = [];
  for (let p = 0; p < a.height * a.width; p++) {
    if (a.data[3 * p] !== b.data[3 * p] || a.data[3 * p + 1] !== b.data[3 * p + 1] || a.data[3 * p + 2] !== b.data[3 * p + 2]) {
      out.push([p % a.width, Math.floor(p / a.width)]);
    }
  }
  return out;
}

test('drawDetections changes pixels only on the box outlines and the tags; the input is untouched', (t) => {
  const g = generateShapesImage(prng(4), { size: 200 });
  const before = Uint8Array.from(g.image.data);
  const boxes = Float32Array.from([20.4, 40.6, 90, 120, 120, 30, 190, 60]);
  const classes = Int32Array.from([0, 3]);
  const scores = Float32Array.from([0.934, 0.5]);
  const out = drawDetections(g.image, { boxes, classes, scores }, { classNames: ['square', 'circle', 'triangle', 'cross'] });
  t.deepEqual(g.image.data, before);
  t.not(out.data, g.image.data);
  const tagH = GLYPH_HEIGHT + 2;
  // Allowed regions: each box's 2 px outline, and its tag above the box.
  const allowed = (x, y) => [[20, 41, 90, 120, 'square 0.93'], [120, 30, 190, 60, 'cross 0.50']].some(([x1, y1, x2, y2, text]) => {
    const inBox = x >= x1 && x < x2 && y >= y1 && y < y2;
    const onEdge = inBox && (x < x1 + 2 || x >= x2 - 2 || y < y1 + 2 || y >= y2 - 2);
    const inTag = x >= x1 && x < x1 + textWidth(text) + 2 && y >= y1 - tagH && y < y1;
    return onEdge || inTag;
  });
  const diff = changed(g.image, out);
  t.true(diff.length > 0);
  t.deepEqual(diff.filter(([x, y]) => !allowed(x, y)), []);
  // The outline has the class colour, corners included.
  const px = (x, y) => Array.from(out.data.subarray(3 * (y * 200 + x), 3 * (y * 200 + x) + 3));
  t.deepEqual(px(20, 100), Array.from(classColor(0)));
  t.deepEqual(px(89, 119), Array.from(classColor(0)));
  t.deepEqual(px(121, 59), Array.from(classColor(3)));
  // The tag has both the class colour (background) and the text colour.
  const tag = new Set();
  for (let y = 41 - tagH; y < 41; y++) for (let x = 20; x < 20 + textWidth('square 0.93') + 2; x++) tag.add(px(x, y).join());
  t.deepEqual([...tag].sort(), [Array.from(classColor(0)).join(), '255,255,255'].sort());
});

test('drawDetections clips at the borders and puts tags inside when there is no room above', (t) => {
  const img = gray(40, 50);
  const boxes = Float32Array.from([-10, -5, 30, 20, 45, 30, 80, 70, 10, 10, 10, 30]); // last: empty box
  const out = drawDetections(img, { boxes, classes: Int32Array.from([1, 2, 5]) });
  t.deepEqual([out.height, out.width, out.data.length], [40, 50, 40 * 50 * 3]);
  const diff = changed(img, out);
  t.true(diff.some(([x, y]) => x === 0 && y === 0), 'box clipped to the top-left corner is drawn');
  t.true(diff.some(([x, y]) => x === 49 && y === 39), 'box clipped to the bottom-right corner is drawn');
  // The first box starts at the top: its tag ("1") is drawn inside, from y = 0.
  const c1 = classColor(1).join();
  const at = (x, y) => Array.from(out.data.subarray(3 * (y * 50 + x), 3 * (y * 50 + x) + 3)).join();
  t.is(at(4, 8), c1, 'tag background, bottom padding row');
  t.is(at(3, 1), '255,255,255', 'text of "1" on the dark tag');
  // The empty box draws nothing at x = 10.
  t.false(diff.some(([x, y]) => x === 10 && y > 22 && y < 30));
});

test('drawDetections: no detections is a copy; tags can be turned off; bad input is rejected', (t) => {
  const img = gray(10, 10);
  const copy = drawDetections(img, { boxes: new Float32Array(0), classes: new Int32Array(0) });
  t.deepEqual(copy, img);
  t.not(copy.data, img.data);
  const noTags = drawDetections(gray(30, 30), { boxes: Float32Array.from([10, 10, 20, 20]), classes: Int32Array.from([0]) }, { labels: false, lineWidth: 1 });
  const diff = changed(gray(30, 30), noTags);
  t.is(diff.length, 36, 'a 1 px outline of a 10x10 box');
  t.throws(() => drawDetections(img, { boxes: new Float32Array(4), classes: new Int32Array(2) }), { instanceOf: TypeError });
  t.throws(() => drawDetections(img, { boxes: new Float32Array(3), classes: new Int32Array(0) }), { instanceOf: RangeError });
  t.throws(() => drawDetections(img, { boxes: Float32Array.from([NaN, 0, 1, 1]), classes: new Int32Array(1) }), { instanceOf: RangeError });
  t.throws(() => drawDetections(img, { boxes: new Float32Array(4), classes: new Int32Array(1), scores: [1] }), { instanceOf: TypeError });
  t.throws(() => drawDetections({ data: new Uint8Array(3), height: 10, width: 10 }, { boxes: new Float32Array(0), classes: new Int32Array(0) }), { instanceOf: RangeError });
  t.throws(() => drawDetections(img, { boxes: new Float32Array(0), classes: new Int32Array(0) }, { lineWidth: 0 }), { instanceOf: RangeError });
  t.throws(() => drawDetections(img, null), { instanceOf: TypeError });
});

test('font: every printable ASCII glyph is distinct and drawn inside its 5x7 cell; text is clipped', (t) => {
  const seen = new Map();
  for (let c = 33; c <= 126; c++) {
    const key = Array.from(glyphRows(String.fromCharCode(c))).join();
    t.false(seen.has(key), `${String.fromCharCode(c)} looks like ${seen.get(key)}`);
    seen.set(key, String.fromCharCode(c));
    t.not(key, '0,0,0,0,0,0,0');
  }
  t.deepEqual(Array.from(glyphRows(' ')), [0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual(glyphRows('\u00e9'), glyphRows('?'), 'non-ASCII draws as ?');
  const img = gray(12, 40, 0);
  drawText(img, 'Ab', 1, 1, 1, [255, 255, 255]);
  for (const [x, y] of changed(gray(12, 40, 0), img)) t.true(x >= 1 && x < 1 + textWidth('Ab') && y >= 1 && y < 8);
  const clip = gray(5, 5, 0);
  t.notThrows(() => drawText(clip, 'WWW', -3, -2, 2, [255, 255, 255]));
  t.true(PALETTE.length >= 10);
  t.deepEqual(classColor(PALETTE.length), classColor(0));
});
