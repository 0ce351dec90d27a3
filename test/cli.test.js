'use strict';
// The `retinanet` command on tiny data: every command runs, resume reproduces an uninterrupted
// run bit for bit, and bad arguments or a damaged checkpoint give clear errors.
const test = require('ava');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { parseSafetensors } = require('../dist/model/safetensors');
const { loadCheckpoint } = require('../dist/model/checkpoint');

const MAIN = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-cli-'));
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, RETINANET_NUM_THREADS: '2' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const data = path.join(root, 'data');
const TINY = ['--preset', 'retinanet-r18-tiny', '--min-size', '64', '--max-size', '64', '--batch', '2', '--quiet'];

test.serial('make-dataset writes a COCO dataset', (t) => {
  const r = cli('make-dataset', '--out', data, '--images', '6', '--size', '64', '--classes', '2', '--min-object', '12', '--max-object', '40', '--objects', '3', '--seed', '5');
  t.is(r.code, 0, r.err);
  const json = JSON.parse(fs.readFileSync(path.join(data, 'instances.json'), 'utf8'));
  t.is(json.images.length, 6);
  t.deepEqual(json.categories.map((c) => c.name), ['square', 'circle']);
  t.true(json.annotations.length >= 6);
  for (const im of json.images) t.true(fs.existsSync(path.join(data, 'images', im.file_name)));
});

test.serial('train writes a checkpoint, the loss CSV and its SVG; resume gives the same weights as an uninterrupted run', (t) => {
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  let r = cli('train', '--data', data, '--out', a, '--iterations', '4', '--checkpoint-every', '2', ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /trained 4 iterations/);
  const csv = fs.readFileSync(path.join(a, 'loss.csv'), 'utf8').trim().split('\n');
  t.is(csv[0], 'iteration,learning_rate,loss,classification,box,grad_norm,normalizer,foreground,seconds,note');
  t.deepEqual(csv.slice(1).map((l) => Number(l.split(',')[0])), [0, 1, 2, 3]);
  t.true(csv.slice(1).every((l) => Number.isFinite(Number(l.split(',')[2]))));
  t.regex(fs.readFileSync(path.join(a, 'loss.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);

  r = cli('train', '--data', data, '--out', b, '--iterations', '4', '--stop-at', '2', ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /now at 2\/4/);
  // The resumed run takes its settings from the checkpoint, whatever the flags say.
  r = cli('train', '--data', data, '--out', b, '--resume', '--iterations', '4', ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /trained 2 iterations .*now at 4\/4/);
  const wa = parseSafetensors(fs.readFileSync(path.join(a, 'checkpoint.safetensors')));
  const wb = parseSafetensors(fs.readFileSync(path.join(b, 'checkpoint.safetensors')));
  t.is(wb.metadata.iteration, '4');
  t.deepEqual([...wb.tensors.keys()], [...wa.tensors.keys()]);
  t.true([...wa.tensors.keys()].some((k) => k.startsWith('optimizer.momentum.')), 'momentum buffers saved');
  for (const [k, v] of wa.tensors) t.deepEqual(wb.tensors.get(k).data, v.data, k);
  const csvB = fs.readFileSync(path.join(b, 'loss.csv'), 'utf8').trim().split('\n').slice(1);
  t.deepEqual(csvB.map((l) => l.split(',').slice(0, 6)), csv.slice(1).map((l) => l.split(',').slice(0, 6)));
});

test.serial('an OUT holding a run is not overwritten unless --overwrite; --resume refuses a finished run or another length', (t) => {
  const a = path.join(root, 'a');  // the 4-iteration run above, finished
  const before = fs.readFileSync(path.join(a, 'checkpoint.safetensors'));
  let r = cli('train', '--data', data, '--out', a, '--iterations', '4', ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /already holds a run .*--resume continues it, --overwrite starts over/);
  r = cli('train', '--data', data, '--out', a, '--resume', '--iterations', '40', ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /the run in .* is finished \(4\/4 iterations\): nothing to resume/);
  t.notRegex(r.out, /trained/);
  t.deepEqual(fs.readFileSync(path.join(a, 'checkpoint.safetensors')), before, 'the checkpoint is untouched');
  const c = path.join(root, 'schedule');
  r = cli('train', '--data', data, '--out', c, '--iterations', '6', '--stop-at', '2', ...TINY);
  t.is(r.code, 0, r.err);
  r = cli('train', '--data', data, '--out', c, '--resume', '--iterations', '40', ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /is 6 iterations long .*--resume without --iterations finishes it/);
  r = cli('train', '--data', data, '--out', c, '--resume', ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /trained 4 iterations .*now at 6\/6/);
  r = cli('train', '--data', data, '--out', c, '--iterations', '2', '--overwrite', ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /trained 2 iterations .*now at 2\/2/);
});

test.serial('eval warns when the checkpoint\'s class names are not the dataset\'s', (t) => {
  const json = JSON.parse(fs.readFileSync(path.join(data, 'instances.json'), 'utf8'));
  json.categories = json.categories.map((c, i) => ({ ...c, name: ['cat', 'dog'][i] }));
  const renamed = path.join(root, 'renamed.json');
  fs.writeFileSync(renamed, JSON.stringify(json));
  const ck = path.join(root, 'a', 'checkpoint.safetensors');
  const r = cli('eval', '--annotations', renamed, '--images', path.join(data, 'images'), '--checkpoint', ck, '--out', path.join(root, 'eval-renamed'), '--quiet');
  t.is(r.code, 0, r.err);
  t.regex(r.err, /warning: the checkpoint's classes \(square, circle\) are not the dataset's \(cat, dog\)/);
  const same = cli('eval', '--data', data, '--checkpoint', ck, '--out', path.join(root, 'eval-same'), '--quiet');
  t.notRegex(same.err, /warning/);
});

test.serial('eval prints the 12-line summary and writes the PR plot; detect writes pictures and JSON', (t) => {
  const ck = path.join(root, 'a', 'checkpoint.safetensors');
  let r = cli('eval', '--data', data, '--checkpoint', ck, '--out', path.join(root, 'eval'), '--quiet');
  t.is(r.code, 0, r.err);
  t.is(r.out.split('\n').filter((l) => /^ Average (Precision|Recall) /.test(l)).length, 12);
  t.regex(r.out, /square/);
  t.regex(fs.readFileSync(path.join(root, 'eval', 'pr.svg'), 'utf8'), /<svg[\s\S]*<\/svg>/);
  const stats = JSON.parse(fs.readFileSync(path.join(root, 'eval', 'eval.json'), 'utf8')).stats;
  t.is(stats.length, 12);
  const img = path.join(data, 'images', fs.readdirSync(path.join(data, 'images'))[0]);
  r = cli('detect', '--checkpoint', ck, '--out', path.join(root, 'det'), '--score-threshold', '0', img);
  t.is(r.code, 0, r.err);
  const base = path.basename(img, '.png');
  const png = fs.readFileSync(path.join(root, 'det', `${base}.png`));
  t.is(png.subarray(1, 4).toString(), 'PNG');
  const json = JSON.parse(fs.readFileSync(path.join(root, 'det', `${base}.json`), 'utf8'));
  t.true(Array.isArray(json.detections) && json.detections.length > 0);
  // COCO results (category ids of the dataset, [x, y, w, h] in the image's pixels) plus names.
  t.deepEqual([json.width, json.height], [64, 64]);
  const ids = new Map(JSON.parse(fs.readFileSync(path.join(data, 'instances.json'), 'utf8')).categories.map((c) => [c.name, c.id]));
  for (const d of json.detections) {
    t.deepEqual(Object.keys(d), ['category_id', 'name', 'bbox', 'score']);
    const [x, y, w, h] = d.bbox;
    t.true(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= 64.05 && y + h <= 64.05, JSON.stringify(d));
    t.is(d.category_id, ids.get(d.name), JSON.stringify(d));
  }
});

test.serial('detect --weights FILE --preset NAME: a weights file (safetensors or .pth) instead of a checkpoint, its class count read from the file', (t) => {
  const { createRetinaNet, saveWeights } = require('..');
  const model = createRetinaNet({ preset: 'retinanet-r18-tiny', numClasses: 5, seed: 9 });
  const file = path.join(root, 'five.safetensors');
  saveWeights(model, file);
  model.dispose();
  const img = path.join(data, 'images', fs.readdirSync(path.join(data, 'images'))[0]);
  let r = cli('detect', '--weights', file, '--preset', 'retinanet-r18-tiny', '--min-size', '64', '--max-size', '64', '--score-threshold', '0', '--max-detections', '7', '--out', path.join(root, 'det-weights'), img);
  t.is(r.code, 0, r.err);
  const json = JSON.parse(fs.readFileSync(path.join(root, 'det-weights', `${path.basename(img, '.png')}.json`), 'utf8'));
  t.is(json.detections.length, 7);
  for (const d of json.detections) t.is(d.name, `class ${d.category_id - 1}`);
  r = cli('detect', '--weights', file, '--preset', 'retinanet-r18-small', img);
  t.is(r.code, 1);
  t.regex(r.err, /five\.safetensors does not fit --preset retinanet-r18-small/);
  r = cli('detect', '--weights', path.join(__dirname, 'fixtures', 'pth', 'evil.pth'), img);
  t.is(r.code, 1);
  t.regex(r.err, /system is not one a state dict needs/);
});

test.serial('a finished run that learned nothing (learning rate 0) says it collapsed and exits 1, keeping its checkpoint', (t) => {
  const out = path.join(root, 'still');
  const r = cli('train', '--data', data, '--out', out, '--iterations', '60', '--lr', '0', ...TINY);
  t.is(r.code, 1, r.out);
  t.regex(r.err, /the run collapsed: the classification loss ended at .*, (9\d|10\d) % of where it started .*; no detection on 6 training images scores above 0\.05/);
  t.true(fs.existsSync(path.join(out, 'checkpoint.safetensors')));
});

test.serial('a run at a learning rate far too high goes back to good weights at half the rate (stderr, loss.csv), then stops with exit 1', (t) => {
  const out = path.join(root, 'diverge');
  const r = cli('train', '--data', data, '--out', out, '--iterations', '100', '--lr', '10000', '--warmup', '0', ...TINY);
  t.is(r.code, 1, r.out);
  t.regex(r.err, /train: iteration \d+ diverged \(loss .*\): back to iteration 0's weights, learning rate x0\.5/);
  t.regex(r.err, /training diverged after 3 recoveries/);
  t.notRegex(r.out, /trained \d+ iterations/, 'no success line');
  const rows = fs.readFileSync(path.join(out, 'loss.csv'), 'utf8').trim().split('\n').slice(1);
  const notes = rows.map((l) => l.split(',')[9]).filter(Boolean).join('; ');
  t.is((notes.match(/diverged/g) ?? []).length, 3, notes);
});

test.serial('bad arguments and damaged files: clear errors, exit status 2 (usage) or 1', (t) => {
  let r = cli('train', '--data', data, '--iterations', '0');
  t.is(r.code, 2);
  t.regex(r.err, /--iterations: expected >= 1, got 0/);
  r = cli('train', '--data', data, '--bogus', '1');
  t.is(r.code, 2);
  t.regex(r.err, /unknown option --bogus/);
  r = cli('train', '--data', data, '--lr', 'fast');
  t.is(r.code, 2);
  t.regex(r.err, /--lr: expected a number, got 'fast'/);
  r = cli('frobnicate');
  t.is(r.code, 2);
  r = cli('train');
  t.is(r.code, 2);
  t.regex(r.err, /a dataset is needed/);
  // Each dataset mistake names what is wrong and the flag that fixes it.
  r = cli('train', '--data', path.join(root, 'nowhere'));
  t.is(r.code, 1);
  t.regex(r.err, /--data .*nowhere: no such folder/);
  r = cli('train', '--data', root, '--quiet');
  t.is(r.code, 1);
  t.regex(r.err, /--data .*: the folder has no instances\.json .*--annotations FILE --images DIR/);
  r = cli('train', '--annotations', path.join(data, 'instances.jsn'), '--images', path.join(data, 'images'));
  t.is(r.code, 1);
  t.regex(r.err, /--annotations .*instances\.jsn: no such file/);
  r = cli('train', '--annotations', path.join(data, 'instances.json'), '--images', path.join(data, 'imgs'));
  t.is(r.code, 1);
  t.regex(r.err, /--images .*imgs: no such folder/);
  // Two listed images without a file: refused with the flag to use, or trained on without them.
  const partial = path.join(root, 'partial');
  fs.mkdirSync(path.join(partial, 'images'), { recursive: true });
  fs.copyFileSync(path.join(data, 'instances.json'), path.join(partial, 'instances.json'));
  const files = fs.readdirSync(path.join(data, 'images'));
  for (const f of files.slice(2)) fs.copyFileSync(path.join(data, 'images', f), path.join(partial, 'images', f));
  r = cli('train', '--data', partial, '--iterations', '1', '--out', path.join(root, 'partial-run'), ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /2 of \d+ images listed in .* have no file .*--skip-missing-images/);
  r = cli('train', '--data', partial, '--iterations', '1', '--out', path.join(root, 'partial-run'), '--skip-missing-images', ...TINY);
  t.is(r.code, 0, r.err);
  // An image whose file is not the size its annotations say (the boxes would be wrong): refused.
  const json = JSON.parse(fs.readFileSync(path.join(data, 'instances.json'), 'utf8'));
  json.images = json.images.map((im) => ({ ...im, width: im.width * 2 }));
  const resized = path.join(root, 'resized.json');
  fs.writeFileSync(resized, JSON.stringify(json));
  r = cli('train', '--annotations', resized, '--images', path.join(data, 'images'), '--iterations', '1', '--out', path.join(root, 'resized-run'), ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /\.png: the file is 64×64 pixels, its annotations say 128×64/);
  r = cli('eval', '--annotations', resized, '--images', path.join(data, 'images'), '--checkpoint', path.join(root, 'a', 'checkpoint.safetensors'), '--out', path.join(root, 'resized-eval'), '--quiet');
  t.is(r.code, 1);
  t.regex(r.err, /its annotations say 128×64/);
  r = cli('detect', '--checkpoint', path.join(root, 'a', 'checkpoint.safetensors'));
  t.is(r.code, 2);
  t.regex(r.err, /no image given/);
  // A truncated checkpoint and a file that is not one.
  const good = fs.readFileSync(path.join(root, 'a', 'checkpoint.safetensors'));
  const bad = path.join(root, 'bad.safetensors');
  fs.writeFileSync(bad, good.subarray(0, good.length >> 1));
  r = cli('eval', '--data', data, '--checkpoint', bad, '--quiet');
  t.is(r.code, 1);
  t.regex(r.err, /bad\.safetensors: not a readable checkpoint \(safetensors: .*truncated/);
  fs.writeFileSync(bad, 'hello');
  r = cli('detect', '--checkpoint', bad, path.join(data, 'images', '000000.png'));
  t.is(r.code, 1);
  t.regex(r.err, /not a readable checkpoint/);
  // Resuming from a damaged checkpoint fails and leaves it in place.
  const c = path.join(root, 'c');
  fs.mkdirSync(c);
  fs.writeFileSync(path.join(c, 'checkpoint.safetensors'), good.subarray(0, 100));
  r = cli('train', '--data', data, '--out', c, '--resume', ...TINY);
  t.is(r.code, 1);
  t.regex(r.err, /not a readable checkpoint/);
  t.is(fs.statSync(path.join(c, 'checkpoint.safetensors')).size, 100);
});

test.serial('a training run killed (SIGKILL) while checkpointing every iteration leaves a loadable checkpoint, and resumes', async (t) => {
  const out = path.join(root, 'killed');
  const file = path.join(out, 'checkpoint.safetensors');
  // A small rate with clipping: the run must outlive the wait below, not diverge on 6 images.
  const STABLE = ['--lr', '0.002', '--clip-grad-norm', '5'];
  const child = spawn(process.execPath, [MAIN, 'train', '--data', data, '--out', out, '--iterations', '400', '--checkpoint-every', '1', ...STABLE, ...TINY]);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // Listening from the start: a child that ends on its own must fail the test, not hang it.
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let ended = null;
  exited.then((e) => { ended = e; });
  // Wait for a few checkpoints, then kill at an arbitrary moment (often mid-write).
  await new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (ended) {
        clearInterval(poll);
        reject(new Error(`training ended by itself (exit ${ended.code}) before it was killed: ${stderr}`));
      } else if (fs.existsSync(file) && Date.now() - started > 4000) {
        clearInterval(poll);
        setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 137);
      } else if (Date.now() - started > 120000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error('no checkpoint within 2 minutes'));
      }
    }, 50);
  });
  const { signal } = await exited;
  t.is(signal, 'SIGKILL', stderr);
  const ck = loadCheckpoint(file);
  const at = ck.trainer.iteration;
  t.true(at >= 1 && at < 400, `checkpoint at iteration ${at}`);
  ck.trainer.dispose();
  ck.model.dispose();
  const r = cli('train', '--data', data, '--out', out, '--resume', '--stop-at', String(at + 1), ...STABLE, ...TINY);
  t.is(r.code, 0, r.err);
  t.regex(r.out, new RegExp(`trained 1 iterations .*now at ${at + 1}/400`));
});

test('bench --json: both cases measured, speed-up = tfjs time / native time', (t) => {
  const r = cli('bench', '--anchors', '2000', '--classes', '3', '--size', '64', '--batch', '1', '--runs', '1', '--json', '--quiet');
  t.is(r.code, 0, r.err);
  const cases = JSON.parse(r.out);
  t.deepEqual(cases.map((c) => c.name.split(',')[0]), ['focal loss fwd+bwd', 'training step']);
  for (const c of cases) {
    t.true(c.nativeMs > 0 && c.tfjsMs > 0, JSON.stringify(c));
    t.true(Math.abs(c.speedup - c.tfjsMs / c.nativeMs) < 1e-9 * c.speedup);
  }
});

test('every command answers --help', (t) => {
  for (const c of ['demo', 'make-dataset', 'train', 'eval', 'detect', 'convert', 'bench', 'ops']) {
    const r = cli(c, '--help');
    t.is(r.code, 0, c);
    t.regex(r.out, new RegExp(`^Usage: retinanet ${c}`), c);
    // Readable in an 100-column terminal: descriptions start by column 28 and lines wrap.
    for (const line of r.out.split('\n')) t.true(line.length <= 100 || !line.includes(' '.repeat(4)), `${c}: ${line}`);
    const first = r.out.split('\n').find((l) => l.startsWith('  --'));
    const column = /^ {2}--\S+(?: \S+)? +/.exec(first);
    t.true(column !== null && column[0].length <= 28, `${c}: ${first}`);
  }
  t.regex(cli('--help').out, /Commands:/);
});

test('--version prints the package version; a bare retinanet is a usage error (help on stderr, exit 2)', (t) => {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  const v = cli('--version');
  t.is(v.code, 0);
  t.is(v.out.trim(), version);
  const bare = cli();
  t.is(bare.code, 2);
  t.is(bare.out, '');
  t.regex(bare.err, /Commands:/);
});

test('--precision bfloat16 where AVX512-BF16 is not in use (RETINANET_CPU_ISA=avx2): exit 1 with the reason; a bad value is a usage error', (t) => {
  const r = spawnSync(process.execPath, [MAIN, 'detect', '--precision', 'bfloat16', 'missing.png'], { encoding: 'utf8', env: { ...process.env, RETINANET_CPU_ISA: 'avx2' } });
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /precision: bfloat16 needs a CPU with AVX512-BF16 and the avx512 path \(this one: avx2\)/);
  const bad = cli('eval', '--precision', 'half');
  t.is(bad.code, 2);
  t.regex(bad.err, /--precision: expected one of float32, bfloat16, got 'half'/);
});
