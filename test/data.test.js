'use strict';
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');
const D = require('../dist/data');
const { prng } = require('../dist/util/prng');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-data-'));
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
const tmpFile = (name) => path.join(tmp, `${fileNo++}-${name}`);

function randomImage(h, w, seed = 1) {
  const r = prng(seed);
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { data, height: h, width: w };
}

// A minimal PNG writer for what pngjs cannot encode (palette, tRNS, 16-bit, 1-bit gray).
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** rows: Buffer per scanline (already packed at the bit depth), filter 0 is prepended. */
function handPng({ width, height, depth, colorType, rows, plte, trns }) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth; ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(plte ? [chunk('PLTE', Buffer.from(plte))] : []),
    ...(trns ? [chunk('tRNS', Buffer.from(trns))] : []),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------- image files

test('PNG round trip: encodePng / decodeImage and writePng / readImage give the same pixels', (t) => {
  const img = randomImage(37, 53, 3);
  const before = Uint8Array.from(img.data);
  t.deepEqual(D.decodeImage(D.encodePng(img)), img);
  const f = tmpFile('rt.png');
  D.writePng(f, img);
  const back = D.readImage(f);
  t.is(back.height, 37); t.is(back.width, 53);
  t.deepEqual(back.data, img.data);
  t.deepEqual(img.data, before, 'input untouched');
  t.deepEqual(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
  // A view into a larger buffer encodes only its own bytes.
  const big = new Uint8Array(img.data.length + 10);
  big.set(img.data, 5);
  t.deepEqual(D.decodeImage(D.encodePng({ data: big.subarray(5, 5 + img.data.length), height: 37, width: 53 })).data, img.data);
});

test('PNG variants encoded by pngjs (gray, gray+alpha, RGBA, 16-bit) decode to RGB8', (t) => {
  const w = 7, h = 5;
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const g = (i * 37) % 256;
    rgba.set([g, g, g, (i * 11) % 256], 4 * i); // gray, so the gray encodings are exact
  }
  const expected = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) expected.set(rgba.subarray(4 * i, 4 * i + 3), 3 * i);
  for (const colorType of [0, 2, 4, 6]) {
    const buf = PNG.sync.write({ width: w, height: h, data: rgba }, { colorType, inputColorType: 6, inputHasAlpha: true, bgColor: { red: 0, green: 0, blue: 0 } });
    const img = D.decodeImage(buf);
    if (colorType === 0 || colorType === 2) {
      // pngjs composites alpha over bgColor when it drops alpha on encoding.
      const comp = expected.map((v, j) => Math.round((v * rgba[4 * Math.floor(j / 3) + 3]) / 255));
      img.data.forEach((v, j) => { if (Math.abs(v - comp[j]) > 1) t.fail(`colorType ${colorType} pixel ${j}: ${v} vs ${comp[j]}`); });
    } else {
      t.deepEqual(img.data, expected, `colorType ${colorType}: alpha dropped, colour kept`);
    }
  }
  // 16-bit from pngjs: its 16-bit input is big-endian-agnostic Uint16 samples.
  const s16 = new Uint16Array(w * h * 4);
  for (let i = 0; i < w * h; i++) s16.set([i * 1000, 65535 - i * 900, 257 * i, 65535], 4 * i);
  const buf16 = PNG.sync.write({ width: w, height: h, data: Buffer.from(s16.buffer) }, { colorType: 2, inputColorType: 6, bitDepth: 16 });
  const img16 = D.decodeImage(buf16);
  for (let i = 0; i < w * h; i++) {
    t.deepEqual(Array.from(img16.data.subarray(3 * i, 3 * i + 3)), [i * 1000, 65535 - i * 900, 257 * i].map((v) => Math.round(v / 257)));
  }
});

test('PNG palette (with tRNS), 1-bit gray, 16-bit gray and colour-key transparency decode to RGB8', (t) => {
  const plte = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
  const idx = [[0, 1, 2, 3], [3, 2, 1, 0]];
  const pal = handPng({ width: 4, height: 2, depth: 8, colorType: 3, rows: idx.map((r) => Buffer.from(r)), plte, trns: [255, 0, 128] });
  const img = D.decodeImage(pal);
  t.deepEqual(Array.from(img.data), idx.flat().flatMap((k) => plte.slice(3 * k, 3 * k + 3)), 'palette colours, alpha dropped');
  // 4-bit palette indices, two per byte.
  const pal4 = handPng({ width: 4, height: 1, depth: 4, colorType: 3, rows: [Buffer.from([0x01, 0x23])], plte });
  t.deepEqual(Array.from(D.decodeImage(pal4).data), plte);

  const bits = handPng({ width: 8, height: 1, depth: 1, colorType: 0, rows: [Buffer.from([0b10110001])] });
  t.deepEqual(Array.from(D.decodeImage(bits).data), [1, 0, 1, 1, 0, 0, 0, 1].flatMap((b) => [b * 255, b * 255, b * 255]));

  const g16 = handPng({ width: 2, height: 1, depth: 16, colorType: 0, rows: [Buffer.from([0x12, 0x34, 0xff, 0xff])] });
  t.deepEqual(Array.from(D.decodeImage(g16).data), [18, 18, 18, 255, 255, 255], '16-bit: round(v / 257)');

  // RGB with a tRNS colour key: the keyed pixel keeps its colour (pngjs would zero it).
  const key = handPng({ width: 2, height: 1, depth: 8, colorType: 2, rows: [Buffer.from([9, 8, 7, 1, 2, 3])], trns: [0, 9, 0, 8, 0, 7] });
  t.deepEqual(Array.from(D.decodeImage(key).data), [9, 8, 7, 1, 2, 3]);
  const gkey = handPng({ width: 2, height: 1, depth: 8, colorType: 0, rows: [Buffer.from([40, 41])], trns: [0, 40] });
  t.deepEqual(Array.from(D.decodeImage(gkey).data), [40, 40, 40, 41, 41, 41]);
});

test('JPEG: a jpeg-js-encoded image decodes within JPEG error, format by magic bytes not extension', (t) => {
  const h = 48, w = 64;
  const rgba = Buffer.alloc(h * w * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) rgba.set([x * 4, y * 5, 128 + ((x + y) % 16), 255], 4 * (y * w + x));
  }
  const bytes = jpeg.encode({ data: rgba, width: w, height: h }, 95).data;
  const f = tmpFile('photo.png'); // wrong extension on purpose
  fs.writeFileSync(f, bytes);
  const img = D.readImage(f);
  t.is(img.height, h); t.is(img.width, w);
  let sum = 0, max = 0;
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(img.data[3 * i + c] - rgba[4 * i + c]);
      sum += d; max = Math.max(max, d);
    }
  }
  t.true(sum / (h * w * 3) < 2, `mean abs error ${sum / (h * w * 3)}`);
  t.true(max < 24, `max error ${max}`);
  t.is(D.imageFormat(bytes), 'jpeg');
});

test('corrupt, truncated and unsupported files fail with an error naming the file', (t) => {
  const png = D.encodePng(randomImage(20, 20));
  const jpg = jpeg.encode({ data: Buffer.alloc(32 * 32 * 4, 200), width: 32, height: 32 }, 90).data;
  const cases = [
    ['trunc.png', png.subarray(0, png.length >> 1), /trunc\.png: corrupt or truncated PNG/],
    ['trunc.jpg', jpg.subarray(0, jpg.length >> 1), /trunc\.jpg: corrupt or truncated JPEG/],
    ['header-only.jpg', jpg.subarray(0, 4), /header-only\.jpg: corrupt or truncated JPEG/],
    ['noise.bin', Buffer.from('definitely not an image'), /noise\.bin: cannot read image: not a PNG or JPEG/],
    ['anim.gif', Buffer.from('GIF89a\x01\x00\x01\x00'), /anim\.gif: cannot read image: GIF, which is not supported/],
    ['empty.png', Buffer.alloc(0), /empty\.png: cannot read image: an empty file/],
  ];
  const badCrc = Buffer.from(png); badCrc[30] ^= 0xff; // inside IHDR / IDAT: CRC mismatch
  cases.push(['crc.png', badCrc, /crc\.png: corrupt or truncated PNG/]);
  for (const [name, bytes, re] of cases) {
    const f = tmpFile(name);
    fs.writeFileSync(f, bytes);
    t.throws(() => D.readImage(f), { message: re }, name);
  }
  t.throws(() => D.readImage(path.join(tmp, 'nope.png')), { code: 'ENOENT' });
  t.throws(() => D.readImage(''), { instanceOf: TypeError });
  t.throws(() => D.decodeImage('abc'), { instanceOf: TypeError });
});

test('encodePng / writePng reject malformed images', (t) => {
  t.throws(() => D.encodePng({ data: new Uint8Array(10), height: 2, width: 2 }), { instanceOf: RangeError, message: /height \* width \* 3 = 12/ });
  t.throws(() => D.encodePng({ data: new Float32Array(12), height: 2, width: 2 }), { instanceOf: TypeError });
  t.throws(() => D.encodePng({ data: new Uint8Array(0), height: 0, width: 2 }), { instanceOf: RangeError });
  t.throws(() => D.encodePng({ data: new Uint8Array(6), height: 1.5, width: 2 }), { instanceOf: TypeError });
  const f = tmpFile('never.png');
  t.throws(() => D.writePng(f, null), { instanceOf: TypeError });
  t.false(fs.existsSync(f));
  t.throws(() => D.writePng(path.join(tmp, 'no-such-dir', 'x.png'), randomImage(2, 2)), { code: 'ENOENT' });
});

// ---------------------------------------------------------------- resize

test('resizeScale: shorter side to minSize, capped by maxSize, torchvision floor rounding', (t) => {
  t.like(D.resizeScale(480, 640, 600, 1000), { height: 600, width: 800 });
  t.true(Math.abs(D.resizeScale(480, 640, 600, 1000).scale - 1.25) < 1e-6, 'the scale, in float32');
  t.like(D.resizeScale(300, 2000, 600, 1000), { height: 150, width: 1000 }, 'longer side capped');
  t.true(Math.abs(D.resizeScale(300, 2000, 600, 1000).scale - 0.5) < 1e-6);
  t.like(D.resizeScale(2000, 300, 600, 1000), { height: 1000, width: 150 });
  t.like(D.resizeScale(480, 640, 800, 1333), { height: 800, width: 1066 });
  t.like(D.resizeScale(800, 800, 800, 1333), { scale: 1, height: 800, width: 800 });
  // 161 * (800 / 161) is 799.999... in doubles: torchvision's floor gives 799, detectron2's rounding 800.
  t.like(D.resizeScale(161, 200, 800, 1333), { height: 799, width: 993 });
  t.like(D.resizeScale(161, 200, 800, 1333, { rounding: 'round' }), { height: 800, width: 994 });
  // Sizes torchvision 0.14's GeneralizedRCNNTransform gives (its float32 scale, computed as
  // reciprocal(side) * min_size): one pixel below the exact product for some sides.
  for (const [h, w, mn, mx, want] of [[83, 117, 96, 160, [95, 135]], [480, 640, 800, 1333, [800, 1066]], [427, 640, 800, 1333, [799, 1199]],
    [375, 500, 800, 1333, [799, 1066]], [600, 800, 800, 1333, [800, 1066]]]) {
    const got = D.resizeScale(h, w, mn, mx);
    t.deepEqual([got.height, got.width], want, `${h}x${w}`);
  }
  const r = D.resizeScale(161, 200, 800, 1333);
  t.is(r.scaleY, 799 / 161); t.is(r.scaleX, 993 / 200);
  // torchvision: 0 x 1332 (and an error); here never 0 pixels.
  t.like(D.resizeScale(1, 10000, 800, 1333), { height: 1, width: 1332 }, 'never 0 pixels');
  t.throws(() => D.resizeScale(0, 10, 800, 1333), { instanceOf: RangeError });
  t.throws(() => D.resizeScale(10, 10.5, 800, 1333), { instanceOf: TypeError });
  t.throws(() => D.resizeScale(10, 10, 800, 600), { instanceOf: RangeError, message: /maxSize/ });
  t.throws(() => D.resizeScale(10, 10, NaN, 600), { instanceOf: TypeError, message: /minSize/ });
  t.throws(() => D.resizeScale(10, 10, 8, 16, { rounding: 'ceil' }), { instanceOf: TypeError });
});

test('resizeImage matches tf.image.resizeBilinear(halfPixelCenters) within 1e-4', (t) => {
  const tf = require('@tensorflow/tfjs');
  const img = randomImage(23, 31, 9);
  const x = tf.tensor3d(Float32Array.from(img.data), [23, 31, 3]);
  for (const [h, w] of [[23, 31], [11, 16], [50, 77], [7, 90], [1, 1], [46, 62], [17, 31]]) {
    const ours = D.resizeImage(img, h, w);
    t.is(ours.data.length, h * w * 3);
    const ref = tf.image.resizeBilinear(x, [h, w], false, true).dataSync();
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i] - ours.data[i]));
    t.true(err <= 1e-4, `${h}x${w}: max error ${err}`);
  }
  x.dispose();
  // Float input too (resizing normalized pixels), and the identity size is exact.
  const f = { data: Float32Array.from(img.data, (v) => v / 7), height: 23, width: 31 };
  t.deepEqual(D.resizeImage(f, 23, 31).data, f.data);
  t.throws(() => D.resizeImage(img, 0, 5), { instanceOf: RangeError });
  t.throws(() => D.resizeImage({ data: new Float32Array(5), height: 1, width: 2 }, 2, 2), { instanceOf: RangeError });
});

test('toTensorInput normalizes with the ImageNet mean / std on [0, 1]; scaleBoxes scales per axis', (t) => {
  const img = { data: Uint8Array.from([0, 128, 255, 255, 0, 10]), height: 1, width: 2 };
  const { data, shape } = D.toTensorInput(img);
  t.deepEqual(shape, [1, 2, 3]);
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  img.data.forEach((v, i) => t.true(Math.abs(data[i] - (v / 255 - mean[i % 3]) / std[i % 3]) < 1e-5));
  const custom = D.toTensorInput(img, { mean: [0, 0, 0], std: [1, 1, 1] });
  img.data.forEach((v, i) => t.true(Math.abs(custom.data[i] - v / 255) < 1e-6));
  t.throws(() => D.toTensorInput(img, { std: [1, 0, 1] }), { instanceOf: RangeError });
  t.throws(() => D.toTensorInput(img, { mean: [1, 2] }), { instanceOf: TypeError });
  const boxes = Float32Array.from([1, 2, 3, 4]);
  t.deepEqual(Array.from(D.scaleBoxes(boxes, 2, 0.5)), [0.5, 4, 1.5, 8]);
  t.deepEqual(Array.from(boxes), [1, 2, 3, 4]);
  t.throws(() => D.scaleBoxes(new Float32Array(3), 1, 1), { instanceOf: RangeError });
});

// ---------------------------------------------------------------- COCO

function writeCoco(json, name = 'instances.json') {
  const dir = fs.mkdtempSync(path.join(tmp, 'coco-'));
  fs.mkdirSync(path.join(dir, 'img'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
  for (const im of (typeof json === 'object' && json.images) || []) {
    if (im && im.file_name && !im.file_name.startsWith('missing')) D.writePng(path.join(dir, 'img', im.file_name), randomImage(4, 4));
  }
  return { file, dir: path.join(dir, 'img') };
}

const cocoJson = () => ({
  images: [
    { id: 10, file_name: 'a.png', height: 100, width: 200 },
    { id: 20, file_name: 'b.png', height: 50, width: 50 }, // no annotations
    { id: 30, file_name: 'c.png', height: 80, width: 80 }, // crowd only
  ],
  categories: [{ id: 7, name: 'cat' }, { id: 1, name: 'person' }, { id: 3, name: 'car' }],
  annotations: [
    { id: 1, image_id: 10, category_id: 7, bbox: [10, 20, 30, 40], area: 900, iscrowd: 0 },
    { id: 2, image_id: 10, category_id: 1, bbox: [190, 90, 20, 20], area: 100, iscrowd: 0 }, // clipped to the image
    { id: 3, image_id: 10, category_id: 3, bbox: [0, 0, 50, 50], area: 2000, iscrowd: 1 },
    { id: 4, image_id: 30, category_id: 1, bbox: [5, 5, 10, 10], area: 80, iscrowd: 1 },
    { id: 5, image_id: 10, category_id: 3, bbox: [5, 5, 0, 10], area: 0, iscrowd: 0 }, // w = 0
    { id: 6, image_id: 10, category_id: 3, bbox: [300, 5, 10, 10], iscrowd: 0 }, // outside the image
    { id: 7, image_id: 10, category_id: 3, bbox: [5, 5, 'x', 10], iscrowd: 0 },
    { id: 8, image_id: 10, category_id: 3, iscrowd: 0 },
    { id: 9, image_id: 10, category_id: 3, bbox: [5, 5, Infinity, 10] },
    { id: 10, image_id: 10, category_id: 99, bbox: [5, 5, 10, 10] },
    { id: 11, image_id: 999, category_id: 3, bbox: [5, 5, 10, 10] },
    { id: 12, image_id: 10, category_id: 3, bbox: [1, 2, 3, 4] }, // no area: w * h
  ],
});

test('loadCocoDataset: contiguous labels by category id, xyxy boxes, crowds apart, empty images kept, one warning', (t) => {
  const json = cocoJson();
  const { file, dir } = writeCoco(json);
  const warnings = [];
  const ds = D.loadCocoDataset(file, dir, { onWarning: (w) => warnings.push(w) });
  t.deepEqual(ds.categories, [{ id: 1, name: 'person' }, { id: 3, name: 'car' }, { id: 7, name: 'cat' }]);
  t.is(ds.labelOf(7), 2); t.is(ds.categoryIdOf(0), 1);
  t.throws(() => ds.labelOf(2), { instanceOf: RangeError });
  t.throws(() => ds.categoryIdOf(3), { instanceOf: RangeError });
  t.deepEqual(ds.images.map((im) => im.id), [10, 20, 30]);
  const [a, b, c] = ds.images;
  t.is(a.path, path.join(dir, 'a.png'));
  t.deepEqual([a.height, a.width, a.fileName], [100, 200, 'a.png']);
  t.deepEqual(Array.from(a.boxes), [10, 20, 40, 60, 190, 90, 200, 100, 1, 2, 4, 6]);
  t.deepEqual(Array.from(a.labels), [2, 0, 1]);
  t.deepEqual(Array.from(a.areas), [900, 100, 12]);
  t.deepEqual(Array.from(a.crowdBoxes), [0, 0, 50, 50]);
  t.deepEqual(Array.from(a.crowdLabels), [1]);
  t.is(b.labels.length, 0); t.is(b.boxes.length, 0); t.is(b.crowdBoxes.length, 0);
  t.is(c.labels.length, 0); t.deepEqual(Array.from(c.crowdBoxes), [5, 5, 15, 15]);
  t.true(a.boxes instanceof Float32Array && a.labels instanceof Int32Array);
  t.deepEqual(ds.skipped, { badBox: 3, degenerateBox: 2, unknownCategory: 1, unknownImage: 1, missingFiles: 0, emptyImages: 0 });
  t.is(warnings.length, 1);
  t.regex(warnings[0], /instances\.json: skipped 7 of 12 annotations: 3 without a valid bbox, 2 with an empty box .*1 with an unknown category_id, 1 with an unknown image_id/);
  t.deepEqual(json, cocoJson(), 'the parsed input is not kept or changed');

  const train = D.loadCocoDataset(file, dir, { skipEmpty: true, onWarning: () => {} });
  t.deepEqual(train.images.map((im) => im.id), [10], 'skipEmpty drops images without non-crowd boxes');
  t.is(train.skipped.emptyImages, 2);

  const gt = D.cocoGroundTruth(ds);
  t.deepEqual(gt.filter((g) => g.imageId === 10), [
    { imageId: 10, categoryId: 7, bbox: [10, 20, 30, 40], area: 900, iscrowd: 0 },
    { imageId: 10, categoryId: 1, bbox: [190, 90, 10, 10], area: 100, iscrowd: 0 },
    { imageId: 10, categoryId: 3, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
    { imageId: 10, categoryId: 3, bbox: [0, 0, 50, 50], area: 2000, iscrowd: 1 },
  ]);
  t.deepEqual(gt.filter((g) => g.imageId !== 10), [{ imageId: 30, categoryId: 1, bbox: [5, 5, 10, 10], area: 80, iscrowd: 1 }]);
  t.throws(() => D.cocoGroundTruth({}), { instanceOf: TypeError });
});

test('loadCocoDataset: a clean file gives no warning', (t) => {
  const json = cocoJson();
  json.annotations = json.annotations.slice(0, 4);
  const { file, dir } = writeCoco(json);
  let warned = 0;
  D.loadCocoDataset(file, dir, { onWarning: () => warned++ });
  t.is(warned, 0);
});

test('loadCocoDataset: missing image files fail at load time unless skipped', (t) => {
  const json = cocoJson();
  json.images.push({ id: 40, file_name: 'missing1.png', height: 5, width: 5 }, { id: 41, file_name: 'missing2.png', height: 5, width: 5 });
  json.annotations = json.annotations.slice(0, 2);
  const { file, dir } = writeCoco(json);
  t.throws(() => D.loadCocoDataset(file, dir), { instanceOf: D.MissingImageFilesError, message: /2 of 5 image files listed in .*instances\.json are missing under .*first: .*missing1\.png/ });
  const warnings = [];
  const ds = D.loadCocoDataset(file, dir, { skipMissingFiles: true, onWarning: (w) => warnings.push(w) });
  t.deepEqual(ds.images.map((im) => im.id), [10, 20, 30]);
  t.is(ds.skipped.missingFiles, 2);
  t.is(warnings.length, 1);
  t.regex(warnings[0], /dropped 2 images whose file is missing/);
  t.is(D.loadCocoDataset(file, dir, { checkFiles: false }).images.length, 5);
});

test('loadCocoDataset: malformed JSON, missing keys and bad entries name the file', (t) => {
  const bad = writeCoco('{"images": [', 'broken.json');
  t.throws(() => D.loadCocoDataset(bad.file, bad.dir), { message: /broken\.json is not valid JSON/ });
  const noAnn = writeCoco({ images: [], categories: [{ id: 1, name: 'x' }] }, 'noann.json');
  t.throws(() => D.loadCocoDataset(noAnn.file, noAnn.dir), { message: /noann\.json: missing top-level array "annotations"/ });
  const arr = writeCoco('[1, 2]', 'array.json');
  t.throws(() => D.loadCocoDataset(arr.file, arr.dir), { message: /array\.json: expected a JSON object/ });
  const noCat = writeCoco({ images: [], annotations: [], categories: [] }, 'nocat.json');
  t.throws(() => D.loadCocoDataset(noCat.file, noCat.dir), { message: /nocat\.json: "categories" is empty/ });
  const dupCat = writeCoco({ images: [], annotations: [], categories: [{ id: 1, name: 'a' }, { id: 1, name: 'b' }] }, 'dup.json');
  t.throws(() => D.loadCocoDataset(dupCat.file, dupCat.dir), { message: /dup\.json: category id 1 appears twice/ });
  const badImg = writeCoco({ images: [{ id: 1, file_name: 'a.png', height: 0, width: 3 }], annotations: [], categories: [{ id: 1, name: 'a' }] }, 'img.json');
  t.throws(() => D.loadCocoDataset(badImg.file, badImg.dir), { message: /img\.json: images\[0\] needs positive integer "height" and "width"/ });
  const dupImg = writeCoco({ images: [{ id: 1, file_name: 'a.png', height: 3, width: 3 }, { id: 1, file_name: 'b.png', height: 3, width: 3 }], annotations: [], categories: [{ id: 1, name: 'a' }] }, 'dupimg.json');
  t.throws(() => D.loadCocoDataset(dupImg.file, dupImg.dir), { message: /dupimg\.json: images\[1\] repeats image id 1/ });
  t.throws(() => D.loadCocoDataset(path.join(tmp, 'absent.json'), tmp), { message: /cannot read COCO annotations .*absent\.json/ });
  t.throws(() => D.loadCocoDataset(42, tmp), { instanceOf: TypeError });
});

// ---------------------------------------------------------------- synthetic shapes

function filesOf(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out[path.relative(dir, p)] = fs.readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

test('makeShapesDataset: same seed, same bytes; loadable as COCO; image i depends only on (seed, i)', (t) => {
  const opts = { images: 4, size: 96, seed: 7, minObject: 8, maxObject: 60 };
  const a = path.join(tmp, 'shapes-a'), b = path.join(tmp, 'shapes-b'), c = path.join(tmp, 'shapes-c'), d = path.join(tmp, 'shapes-d');
  const info = D.makeShapesDataset({ ...opts, dir: a });
  D.makeShapesDataset({ ...opts, dir: b });
  D.makeShapesDataset({ ...opts, dir: c, seed: 8 });
  D.makeShapesDataset({ ...opts, dir: d, images: 2 });
  const fa = filesOf(a), fb = filesOf(b), fc = filesOf(c), fd = filesOf(d);
  t.deepEqual(Object.keys(fa).sort(), ['images/000001.png', 'images/000002.png', 'images/000003.png', 'images/000004.png', 'instances.json']);
  for (const k of Object.keys(fa)) t.true(fa[k].equals(fb[k]), `${k} identical`);
  t.false(fa['images/000001.png'].equals(fc['images/000001.png']), 'another seed, another image');
  t.true(fa['images/000002.png'].equals(fd['images/000002.png']), 'a smaller dataset is a prefix');
  t.deepEqual(info.categories, [{ id: 1, name: 'square' }, { id: 2, name: 'circle' }, { id: 3, name: 'triangle' }, { id: 4, name: 'cross' }]);
  t.is(info.annotationsPath, path.join(a, 'instances.json'));

  let warned = 0;
  const ds = D.loadCocoDataset(info.annotationsPath, info.imageDir, { onWarning: () => warned++ });
  t.is(warned, 0);
  t.is(ds.images.length, 4);
  t.is(ds.images.reduce((s, im) => s + im.labels.length, 0), info.annotations);
  const img = D.readImage(ds.images[0].path);
  t.deepEqual([img.height, img.width], [96, 96]);
  for (const im of ds.images) {
    t.true(im.labels.length >= 1);
    for (const v of im.boxes) t.true(Number.isInteger(v) && v >= 0 && v <= 96);
  }
});

test('generateShapesImage: boxes are the tight boxes of the drawn pixels; sizes in range; many objects', (t) => {
  const rng = prng(123);
  let objects = 0, images = 0;
  const seen = new Set();
  for (let k = 0; k < 30; k++) {
    const clutter = k % 2 === 0;
    const g = D.generateShapesImage(rng, { size: 160, classes: 8, minObject: 10, maxObject: 120, maxObjectsPerImage: 6, clutter });
    images++; objects += g.labels.length;
    const S = 160, n = g.labels.length;
    t.true(n >= 1 && n <= 6);
    // Recompute each object's pixel set from the instance map and compare.
    const tight = Array.from({ length: n }, () => [S, S, 0, 0]);
    const count = new Array(n).fill(0);
    const color = new Array(n).fill(null);
    let sameColor = true;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const id = g.instances[y * S + x];
        if (!id) continue;
        const b = tight[id - 1];
        b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x + 1); b[3] = Math.max(b[3], y + 1);
        count[id - 1]++;
        const c = Array.from(g.image.data.subarray(3 * (y * S + x), 3 * (y * S + x) + 3)).join();
        if (color[id - 1] === null) color[id - 1] = c; else if (color[id - 1] !== c) sameColor = false;
      }
    }
    t.deepEqual(Array.from(g.boxes), tight.flat());
    t.deepEqual(Array.from(g.areas), count);
    if (!clutter) t.true(sameColor, 'without clutter an object is one flat colour');
    for (let i = 0; i < n; i++) {
      const [x1, y1, x2, y2] = g.boxes.subarray(4 * i, 4 * i + 4);
      const longer = Math.max(x2 - x1, y2 - y1), shorter = Math.min(x2 - x1, y2 - y1);
      t.true(longer <= 120, `longer side ${longer} <= maxObject`);
      t.true(shorter >= 4 && longer >= 7, `object ${longer}x${shorter} not vanishing`);
      t.true(count[i] >= 0.25 * (x2 - x1) * (y2 - y1), 'the box is mostly the object');
      seen.add(g.labels[i]);
    }
  }
  t.true(objects / images >= 3, `${objects / images} objects per image`);
  t.is(seen.size, 8, 'all classes appear');
});

test('generateShapesImage: log-uniform sizes span the range; fast; options checked', (t) => {
  const rng = prng(5);
  const sides = [];
  for (let k = 0; k < 40; k++) {
    const g = D.generateShapesImage(rng);
    for (let i = 0; i < g.labels.length; i++) sides.push(Math.max(g.boxes[4 * i + 2] - g.boxes[4 * i], g.boxes[4 * i + 3] - g.boxes[4 * i + 1]));
  }
  t.true(Math.min(...sides) < 16 && Math.max(...sides) > 150, `sides ${Math.min(...sides)}..${Math.max(...sides)}`);
  const small = sides.filter((s) => s < 32).length / sides.length;
  t.true(small > 0.2 && small < 0.7, `share of objects under 32 px: ${small}`);

  const start = process.hrtime.bigint();
  for (let k = 0; k < 20; k++) D.generateShapesImage(rng);
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / 20;
  t.true(ms < 50, `${ms.toFixed(2)} ms per 320 px image`);
  t.log(`generateShapesImage 320x320: ${ms.toFixed(2)} ms`);

  t.throws(() => D.generateShapesImage(rng, { classes: 9 }), { instanceOf: RangeError });
  t.throws(() => D.generateShapesImage(rng, { minObject: 50, maxObject: 40 }), { instanceOf: RangeError });
  t.throws(() => D.generateShapesImage(rng, { size: 64, minObject: 80 }), { instanceOf: RangeError });
  t.throws(() => D.generateShapesImage(42), { instanceOf: TypeError });
  t.throws(() => D.makeShapesDataset({ dir: tmp, images: 1, seed: 1.5 }), { instanceOf: TypeError });
  t.throws(() => D.makeShapesDataset({ dir: tmp, images: 0, seed: 1 }), { instanceOf: RangeError });
  t.deepEqual(D.shapeClassNames(2), ['square', 'circle']);

  // Every option reaches the generator.
  const dir = path.join(tmp, 'shapes-opts');
  const info = D.makeShapesDataset({ dir, images: 3, seed: 2, size: 64, classes: 2, minObject: 10, maxObject: 30, maxObjectsPerImage: 2, clutter: false });
  const json = JSON.parse(fs.readFileSync(info.annotationsPath, 'utf8'));
  t.deepEqual(json.categories.map((c) => c.name), ['square', 'circle']);
  t.true(json.images.every((im) => im.height === 64 && im.width === 64));
  for (const im of json.images) t.true(json.annotations.filter((a) => a.image_id === im.id).length <= 2);
  t.true(json.annotations.every((a) => Math.max(a.bbox[2], a.bbox[3]) <= 30 && a.category_id <= 2));
});

// ---------------------------------------------------------------- batch and flip

test('makeBatch: resized, normalized, zero-padded to a multiple of sizeDivisibility', (t) => {
  const a = randomImage(30, 40, 1), b = randomImage(50, 20, 2);
  const aBefore = Uint8Array.from(a.data);
  const boxes = Float32Array.from([4, 6, 20, 30]);
  const labels = Int32Array.from([3]);
  const batch = D.makeBatch([{ image: a, boxes, labels }, { image: b }], { minSize: 60, maxSize: 100 });
  // a: scale min(60/30, 100/40) = 2 -> 60x80; b: min(60/20, 100/50) = 2 -> 100x40.
  t.deepEqual(batch.sizes, [[60, 80], [100, 40]]);
  t.deepEqual(batch.scales, [2, 2]);
  t.deepEqual(batch.originalSizes, [[30, 40], [50, 20]]);
  t.deepEqual(batch.shape, [2, 128, 96, 3]);
  t.is(batch.images.length, 2 * 128 * 96 * 3);
  t.deepEqual(Array.from(batch.boxes[0]), [8, 12, 40, 60]);
  t.deepEqual(Array.from(batch.labels[0]), [3]);
  t.not(batch.labels[0], labels, 'labels copied');
  t.is(batch.boxes[1].length, 0); t.is(batch.labels[1].length, 0);
  t.deepEqual(batch.flipped, [false, false]);
  const [H, W] = [128, 96];
  [a, b].forEach((im, k) => {
    const [h, w] = batch.sizes[k];
    const want = D.toTensorInput(D.resizeImage(im, h, w)).data;
    let err = 0, pad = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < 3; c++) {
          const v = batch.images[((k * H + y) * W + x) * 3 + c];
          if (y < h && x < w) err = Math.max(err, Math.abs(v - want[(y * w + x) * 3 + c]));
          else pad = Math.max(pad, Math.abs(v));
        }
      }
    }
    t.true(err < 1e-5, `image ${k} pixels`);
    t.is(pad, 0, `image ${k} padding is zero`);
  });
  t.deepEqual(a.data, aBefore);
  t.deepEqual(Array.from(boxes), [4, 6, 20, 30]);
  t.deepEqual(D.makeBatch([{ image: a }], { minSize: 30, maxSize: 40, sizeDivisibility: 1 }).shape, [1, 30, 40, 3]);
});

test('makeBatch flip: mirrored pixels within the unpadded width, boxes x1\' = w - x2, flipping twice is the identity', (t) => {
  const g = D.generateShapesImage(prng(77), { size: 64, minObject: 8, maxObject: 40, clutter: false });
  const item = { image: g.image, boxes: g.boxes, labels: g.labels };
  const opts = { minSize: 50, maxSize: 100, sizeDivisibility: 32 };
  const plain = D.makeBatch([item], opts);
  const flipped = D.makeBatch([item], { ...opts, flip: [true] });
  const [h, w] = plain.sizes[0];
  t.deepEqual([h, w], [50, 50]);
  const [, H, W] = plain.shape;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = x < w ? w - 1 - x : x;
      for (let c = 0; c < 3; c++) {
        if (flipped.images[(y * W + x) * 3 + c] !== plain.images[(y * W + sx) * 3 + c]) {
          t.fail(`pixel ${y},${x}`); return;
        }
      }
    }
  }
  const pb = plain.boxes[0], fb = flipped.boxes[0];
  for (let i = 0; i < pb.length; i += 4) {
    t.deepEqual([fb[i], fb[i + 1], fb[i + 2], fb[i + 3]], [w - pb[i + 2], pb[i + 1], w - pb[i], pb[i + 3]]);
  }
  t.deepEqual(D.flipBoxes(fb, w), pb, 'flipping the flipped boxes gives the originals');
  t.deepEqual(D.flipBoxes(D.flipBoxes(pb, w), w), pb);
  t.deepEqual(flipped.flipped, [true]);

  // The flipped image's pixels sit in the flipped boxes: flip the instance map and re-measure.
  const S = 64;
  const inst = { data: new Uint8Array(S * S * 3), height: S, width: S };
  for (let p = 0; p < S * S; p++) inst.data[3 * p] = g.instances[p];
  const mirrored = D.flipImage(inst);
  const fromPixels = D.flipBoxes(g.boxes, S);
  for (let i = 0; i < g.labels.length; i++) {
    let x1 = S, x2 = 0;
    for (let p = 0; p < S * S; p++) if (mirrored.data[3 * p] === i + 1) { x1 = Math.min(x1, p % S); x2 = Math.max(x2, (p % S) + 1); }
    t.deepEqual([x1, x2], [fromPixels[4 * i], fromPixels[4 * i + 2]]);
  }
  t.deepEqual(D.flipImage(D.flipImage(g.image)), g.image);
});

test('makeBatch: random flips from rng are reproducible; bad items are rejected before any work', (t) => {
  const items = Array.from({ length: 16 }, (_, k) => ({ image: randomImage(8, 8, k) }));
  const f1 = D.makeBatch(items, { minSize: 8, maxSize: 8, flipProbability: 0.5, rng: prng(3) }).flipped;
  const f2 = D.makeBatch(items, { minSize: 8, maxSize: 8, flipProbability: 0.5, rng: prng(3) }).flipped;
  t.deepEqual(f1, f2);
  t.true(f1.some(Boolean) && !f1.every(Boolean));
  const img = randomImage(8, 8);
  t.throws(() => D.makeBatch([]), { instanceOf: TypeError });
  t.throws(() => D.makeBatch([{ image: img }], { flipProbability: 0.5 }), { instanceOf: TypeError, message: /rng/ });
  t.throws(() => D.makeBatch([{ image: img }], { flipProbability: 2, rng: Math.random }), { instanceOf: RangeError });
  t.throws(() => D.makeBatch([{ image: img }], { flip: [true, false] }), { instanceOf: TypeError });
  t.throws(() => D.makeBatch([{ image: img, boxes: new Float32Array(4), labels: new Int32Array(2) }]), { instanceOf: RangeError, message: /labels/ });
  t.throws(() => D.makeBatch([{ image: img, boxes: new Float32Array(5) }]), { instanceOf: RangeError });
  t.throws(() => D.makeBatch([{ image: { data: new Uint8Array(3), height: 8, width: 8 } }]), { instanceOf: RangeError, message: /items\[0\]\.image/ });
  t.throws(() => D.makeBatch([{ image: img }], { sizeDivisibility: 0 }), { instanceOf: RangeError });
});
