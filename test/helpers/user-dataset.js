'use strict';
// A dataset of the kind a user brings, written apart from the library's shapes generator (no code
// shared with lib/data/synthetic.ts): JPEG files (a quarter of them one-component grayscale),
// landscape and portrait images of different sizes, COCO category ids that are not 1..K, and
// objects that are not filled shapes — rings, checkerboard tiles, shaded stars and striped
// discs — on textured backgrounds (value noise, wood-like grain, strokes, look-alike blobs),
// JPEG-compressed at varying quality. Deterministic for a seed.

const fs = require('fs');
const path = require('path');
const jpeg = require('jpeg-js');
const { encodeGrayJpeg } = require('./gray-jpeg');

const CATEGORIES = [
  { id: 3, name: 'ring' },
  { id: 7, name: 'checker' },
  { id: 11, name: 'star' },
  { id: 20, name: 'striped-disc' },
];
const SIZES = [[240, 320], [240, 320], [240, 320], [320, 240], [216, 288], [256, 304]];  // [height, width]

// xorshift128+ folded to doubles (a different generator from lib/util/prng's mulberry32).
function random(seed) {
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1, s1 = (seed * 2654435761) >>> 0 || 2;
  const next = () => {
    let x = s0; const y = s1;
    s0 = y; x ^= x << 23; x ^= x >>> 17; x ^= y ^ (y >>> 26); s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  return next;
}

function valueNoise(r, width, height, cell) {
  const gw = Math.ceil(width / cell) + 2, gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => r());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell, y0 = Math.floor(gy), fy = gy - y0, sy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < width; x++) {
      const gx = x / cell, x0 = Math.floor(gx), fx = gx - x0, sx = fx * fx * (3 - 2 * fx);
      const a = grid[y0 * gw + x0], b = grid[y0 * gw + x0 + 1], c = grid[(y0 + 1) * gw + x0], d = grid[(y0 + 1) * gw + x0 + 1];
      out[y * width + x] = (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy;
    }
  }
  return out;
}

const rgb = (r) => [r() * 255, r() * 255, r() * 255];
const mix = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

function background(r, width, height) {
  const px = new Float32Array(width * height * 3);
  const c0 = rgb(r), c1 = rgb(r);
  const coarse = valueNoise(r, width, height, 40 + r() * 60), fine = valueNoise(r, width, height, 4 + r() * 6);
  const grain = r() < 0.5;  // wood-like rings along one direction, or plain noise
  const freq = 0.05 + r() * 0.15, angle = r() * Math.PI;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      let t = 0.6 * coarse[p] + 0.4 * fine[p];
      if (grain) t = 0.5 + 0.35 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) * freq + 6 * coarse[p]) + 0.15 * (fine[p] - 0.5);
      const c = mix(c0, c1, Math.min(1, Math.max(0, t)));
      px.set(c, 3 * p);
    }
  }
  // Strokes and look-alike blobs (ellipses with soft edges) that are not objects.
  for (let k = 2 + Math.floor(r() * 5); k > 0; k--) {
    const x0 = r() * width, y0 = r() * height, a = r() * 2 * Math.PI, len = 30 + r() * 200, thick = 1 + r() * 3, c = rgb(r);
    for (let s = 0; s < len; s += 0.5) {
      const cx = x0 + s * Math.cos(a), cy = y0 + s * Math.sin(a) + 8 * Math.sin(s / 15);
      for (let dy = -thick; dy <= thick; dy++) for (let dx = -thick; dx <= thick; dx++) {
        const x = Math.round(cx + dx), y = Math.round(cy + dy);
        if (x >= 0 && y >= 0 && x < width && y < height) px.set(c, 3 * (y * width + x));
      }
    }
  }
  for (let k = Math.floor(r() * 4); k > 0; k--) {
    const cx = r() * width, cy = r() * height, rx = 8 + r() * 40, ry = 8 + r() * 40, c = rgb(r);
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(height, cy + ry); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(width, cx + rx); x++) {
        const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (d < 1) px.set(mix(px.subarray(3 * (y * width + x), 3 * (y * width + x) + 3), c, 0.5 * (1 - d)), 3 * (y * width + x));
      }
    }
  }
  return px;
}

const luma = (c) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
// Annotators label what they can see: every object differs from the background under it by this
// much in luminance (so it stays visible in the grayscale files), two-tone ones also inside.
const MIN_LUMA_CONTRAST = 48;

/** Two colours that both stand out from luminance `bg` and from each other. */
function colours(r, bg) {
  let a = rgb(r), b = rgb(r);
  const far = (x, y) => Math.abs(x - y) >= MIN_LUMA_CONTRAST;
  for (let k = 0; k < 200 && !(far(luma(a), bg) && far(luma(b), bg) && far(luma(a), luma(b))); k++) {
    a = rgb(r); b = rgb(r);
  }
  return [a, b];
}

// Each kind: (u, v) in [-1, 1]² of the object's box -> null (not covered) or a colour.
function makeObject(kind, r, bg) {
  const [a, b] = colours(r, bg);
  if (kind === 'ring') {
    const inner = 0.45 + r() * 0.2;
    return (u, v) => { const d = Math.hypot(u, v); return d <= 1 && d >= inner ? a : null; };
  }
  if (kind === 'checker') {
    const cells = 3 + Math.floor(r() * 3);
    return (u, v) => ((Math.floor(((u + 1) / 2) * cells) + Math.floor(((v + 1) / 2) * cells)) % 2 === 0 ? a : b);
  }
  if (kind === 'star') {
    // Five points wide enough to stay visible to their tips; shaded from the centre outwards
    // within a's half of the way to b (every pixel keeps its contrast with the background).
    const turn = r() * 2 * Math.PI, depth = 0.45 + r() * 0.1;
    return (u, v) => {
      const d = Math.hypot(u, v), t = Math.atan2(v, u) + turn;
      const edge = depth + (1 - depth) * Math.abs(Math.cos((5 * t) / 2));
      return d <= edge ? mix(a, b, 0.3 * d) : null;
    };
  }
  const stripes = 3 + Math.floor(r() * 4), tilt = r() * Math.PI;  // striped disc
  return (u, v) => {
    if (Math.hypot(u, v) > 1) return null;
    const s = u * Math.cos(tilt) + v * Math.sin(tilt);
    return Math.floor(((s + 1) / 2) * stripes * 2) % 2 === 0 ? a : b;
  };
}

function iou(p, q) {
  const w = Math.min(p[2], q[2]) - Math.max(p[0], q[0]), h = Math.min(p[3], q[3]) - Math.max(p[1], q[1]);
  if (w <= 0 || h <= 0) return 0;
  const i = w * h;
  return i / ((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - i);
}

/** One image: { pixels (RGB floats), width, height, objects: [{ box, category, area }] }. */
function userImage(r, { minObject = 16, maxObject = 96, maxObjects = 5, classes = CATEGORIES.length } = {}) {
  const [height, width] = SIZES[Math.floor(r() * SIZES.length)];
  const px = background(r, width, height);
  const owner = new Int16Array(width * height).fill(-1);
  const objects = [];
  const count = 1 + Math.floor(r() * maxObjects);
  for (let k = 0; k < count; k++) {
    const ci = Math.floor(r() * classes);
    const kind = CATEGORIES[ci].name;
    const side = Math.exp(Math.log(minObject) + r() * Math.log(maxObject / minObject));
    const aspect = kind === 'checker' ? 0.6 + r() * 1.0 : 0.85 + r() * 0.3;
    const w = side * Math.min(1, aspect), h = side * Math.min(1, 1 / aspect);
    for (let attempt = 0; attempt < 30; attempt++) {
      const x1 = r() * (width - w), y1 = r() * (height - h), box = [x1, y1, x1 + w, y1 + h];
      if (objects.some((o) => iou(o.drawn, box) > 0.2)) continue;
      let bg = 0, count = 0;
      for (let y = Math.floor(y1); y < Math.ceil(y1 + h); y++) {
        for (let x = Math.floor(x1); x < Math.ceil(x1 + w); x++) { bg += luma(px.subarray(3 * (y * width + x), 3 * (y * width + x) + 3)); count++; }
      }
      const shade = makeObject(kind, r, bg / count);
      const id = objects.length;
      for (let y = Math.floor(y1); y < Math.ceil(y1 + h); y++) {
        for (let x = Math.floor(x1); x < Math.ceil(x1 + w); x++) {
          const c = shade(((x + 0.5 - x1) / w) * 2 - 1, ((y + 0.5 - y1) / h) * 2 - 1);
          if (c === null) continue;
          px.set(c, 3 * (y * width + x));
          owner[y * width + x] = id;
        }
      }
      objects.push({ drawn: box, category: CATEGORIES[ci].id });
      break;
    }
  }
  // Ground truth: the tight box of each object's visible pixels (later objects may cover a little).
  const boxes = objects.map(() => [Infinity, Infinity, -Infinity, -Infinity, 0]);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const o = owner[p];
      if (o < 0) continue;
      const b = boxes[o];
      b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x + 1); b[3] = Math.max(b[3], y + 1); b[4]++;
    }
  }
  // Sensor noise and a little blur of nothing: JPEG does the rest.
  for (let i = 0; i < px.length; i++) px[i] += (r() - 0.5) * 16;
  const kept = [];
  objects.forEach((o, i) => {
    const [x1, y1, x2, y2, area] = boxes[i];
    if (area >= 40) kept.push({ box: [x1, y1, x2 - x1, y2 - y1], category: o.category, area });
  });
  return { px, width, height, objects: kept };
}

/**
 * Writes DIR/instances.json and DIR/images/*.jpg: `images` images from `seed`, objects of the
 * first `classes` categories (default all 4). Image i depends only on (seed, i). Returns
 * { annotations, images, grayscale, categories }.
 */
function makeUserDataset({ dir, images, seed = 1, grayFraction = 0.25, classes = CATEGORIES.length, ...objectOptions }) {
  const imageDir = path.join(dir, 'images');
  fs.mkdirSync(imageDir, { recursive: true });
  const entries = [], annotations = [];
  let grayscale = 0;
  for (let i = 0; i < images; i++) {
    const r = random((seed * 1000003 + i * 7919) >>> 0);
    const im = userImage(r, { ...objectOptions, classes });
    const gray = r() < grayFraction;
    const quality = 70 + Math.floor(r() * 26);
    const fileName = `photo_${String(i).padStart(4, '0')}.jpg`;
    let bytes;
    const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
    if (gray) {
      grayscale++;
      const g = new Uint8Array(im.width * im.height);
      for (let p = 0; p < g.length; p++) g[p] = clamp(0.299 * im.px[3 * p] + 0.587 * im.px[3 * p + 1] + 0.114 * im.px[3 * p + 2]);
      bytes = encodeGrayJpeg(g, im.width, im.height, quality);
    } else {
      const rgba = Buffer.alloc(im.width * im.height * 4);
      for (let p = 0; p < im.width * im.height; p++) {
        rgba[4 * p] = clamp(im.px[3 * p]); rgba[4 * p + 1] = clamp(im.px[3 * p + 1]); rgba[4 * p + 2] = clamp(im.px[3 * p + 2]); rgba[4 * p + 3] = 255;
      }
      bytes = jpeg.encode({ data: rgba, width: im.width, height: im.height }, quality).data;
    }
    fs.writeFileSync(path.join(imageDir, fileName), bytes);
    const id = 1000 + i * 3;  // image ids that are not 1..N either
    entries.push({ id, file_name: fileName, width: im.width, height: im.height });
    for (const o of im.objects) {
      annotations.push({ id: annotations.length + 501, image_id: id, category_id: o.category, bbox: o.box, area: o.area, iscrowd: 0 });
    }
  }
  const json = { info: { description: 'user-style test dataset (test/helpers/user-dataset.js)', seed }, images: entries, annotations,
    categories: CATEGORIES.slice(0, classes).map((c) => ({ ...c, supercategory: 'thing' })) };
  fs.writeFileSync(path.join(dir, 'instances.json'), JSON.stringify(json));
  return { images, annotations: annotations.length, grayscale, categories: CATEGORIES.slice(0, classes) };
}

module.exports = { makeUserDataset, CATEGORIES };

if (require.main === module) {
  const [dir, n = '400', seed = '1', classes = '4'] = process.argv.slice(2);
  if (!dir) { console.error('usage: node test/helpers/user-dataset.js DIR [IMAGES] [SEED] [CLASSES]'); process.exit(2); }
  const info = makeUserDataset({ dir, images: Number(n), seed: Number(seed), classes: Number(classes) });
  console.log(`wrote ${info.images} images (${info.grayscale} grayscale) with ${info.annotations} objects to ${dir}`);
}
