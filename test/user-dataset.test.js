'use strict';
// Training at the defaults on data the shapes generator does not make (test/helpers/user-dataset.js:
// JPEG, one-component grayscale files, non-square sizes, category ids 3/7/11/20, textured
// backgrounds): the short version of `npm run check:training`.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { makeUserDataset } = require('./helpers/user-dataset');
const { readImage } = require('../dist/data/image');
const { loadCocoDataset } = require('../dist/data/coco');

const MAIN = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-user-'));
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

// Objects of 32-128 px in the 320x240-ish files: 16-64 px at the 160 px the short run trains at.
const OBJECTS = { minObject: 32, maxObject: 128 };
const train = path.join(root, 'train');
const val = path.join(root, 'val');
makeUserDataset({ dir: train, images: 64, seed: 11, ...OBJECTS });
makeUserDataset({ dir: val, images: 24, seed: 12, ...OBJECTS });

function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, RETINANET_NUM_THREADS: '2' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the user-style data: JPEG files (some one-component grayscale) of several sizes, category ids 3/7/11/20, read as RGB', (t) => {
  const json = JSON.parse(fs.readFileSync(path.join(train, 'instances.json'), 'utf8'));
  t.deepEqual(json.categories.map((c) => c.id), [3, 7, 11, 20]);
  const sizes = new Set(json.images.map((im) => `${im.width}x${im.height}`));
  t.true(sizes.size >= 3 && [...sizes].some((s) => { const [w, h] = s.split('x').map(Number); return h > w; }), [...sizes].join(' '));
  let gray = 0;
  for (const im of json.images) {
    const bytes = fs.readFileSync(path.join(train, 'images', im.file_name));
    t.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], `${im.file_name} is a JPEG`);
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    const components = bytes[sof + 9];
    const rgb = readImage(path.join(train, 'images', im.file_name));
    t.deepEqual([rgb.width, rgb.height], [im.width, im.height], 'the JSON\'s size is the file\'s');
    if (components === 1) {
      gray++;
      let equal = true;
      for (let p = 0; p < rgb.data.length; p += 3) if (rgb.data[p] !== rgb.data[p + 1] || rgb.data[p] !== rgb.data[p + 2]) equal = false;
      t.true(equal, `${im.file_name}: a grayscale JPEG decodes to equal R, G and B`);
    }
  }
  t.true(gray >= 6 && gray <= 32, `${gray} of 64 grayscale`);
  const d = loadCocoDataset(path.join(train, 'instances.json'), path.join(train, 'images'));
  t.deepEqual(d.categories.map((c) => c.name), ['ring', 'checker', 'star', 'striped-disc']);
  t.is(d.categoryIdOf(3), 20);
});

test('retinanet train at its defaults (only data, iterations, batch and size) learns the user-style data: AP50 on held-out images', (t) => {
  const out = path.join(root, 'run');
  let r = cli('train', '--data', train, '--out', out, '--iterations', '600', '--batch', '4', '--min-size', '120', '--max-size', '160', '--quiet');
  t.is(r.code, 0, r.err);
  t.regex(r.out, /trained 600 iterations/);
  r = cli('eval', '--data', val, '--checkpoint', path.join(out, 'checkpoint.safetensors'), '--out', path.join(root, 'eval'), '--quiet');
  t.is(r.code, 0, r.err);
  const [ap, ap50] = JSON.parse(fs.readFileSync(path.join(root, 'eval', 'eval.json'), 'utf8')).stats;
  t.log(`AP ${(100 * ap).toFixed(1)}, AP50 ${(100 * ap50).toFixed(1)} on 24 held-out images after 600 iterations of 4 at 160 px`);
  // Measured 30.0 with the default retinanet-r18-small and the right FPN upsampling gradient (Zen 5,
  // 2026-12-06; 35.3 with tfjs's wrong one, docs/training.md §10; 24.4 with Winograd in training
  // from 64 tiles, a build of 2026-12-05; 23.2-28.2 with r18-tiny, the default before):
  // the bar leaves room for rounding; an untrained or collapsed detector scores about 0.
  t.true(ap50 >= 0.2, `AP50 ${ap50}`);
});
