'use strict';
// The package as users get it: `npm pack` (dist/, the native sources and build files, the
// prebuilt binary in prebuilds/<platform>-<arch>/), installed from the tarball into an empty
// folder with a PATH that holds node, npm and sh only (no cmake, nvcc, C/C++ compiler, make or
// python, so a build from source cannot happen), then loaded there: the addon must be the
// prebuilt one, `ops` must run on the CPU, the addon's `cudaInfo().built` must say what that
// binary was built with, and a tfjs kernel (with its gradient) must run through the package root.
//
// Needs a prebuild for this platform in the checkout (`npm run prebuild`, which CI runs before
// `npm test`); without one the test is skipped, with the reason in its title. The tarball is made
// with --ignore-scripts: `prepack` would recompile dist/ (which `npm test` has just built) while
// the other test files are loading it. Dependencies come from the npm registry (--prefer-offline:
// from npm's cache where it has them).
const test = require('ava');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { fatbinArchs, probe } = require('../scripts/prebuild.js');

const ROOT = path.join(__dirname, '..');
const PLATFORM = `${process.platform}-${process.arch}`;
const PREBUILD_DIR = path.join(ROOT, 'prebuilds', PLATFORM);
const prebuilt = fs.existsSync(PREBUILD_DIR) ? fs.readdirSync(PREBUILD_DIR).filter((f) => f.endsWith('.node')) : [];
// What must not be reachable on the PATH during the install (nor when the package is loaded).
const BUILD_TOOLS = ['cmake', 'nvcc', 'gcc', 'g++', 'cc', 'c++', 'clang', 'clang++', 'make', 'ninja', 'python', 'python3'];

/** Runs a command; resolves { code, stdout, stderr }, killing it after timeoutMs. */
function run(cmd, args, { cwd, env, timeoutMs = 90e3 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? `killed (${signal}) after ${timeoutMs} ms` : code, stdout, stderr });
    });
  });
}

const tail = (s, n = 3000) => (s.length > n ? `...${s.slice(-n)}` : s);
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Where `npm` really is (npm-cli.js), to link into the bare bin folder. */
function npmCli() {
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) return process.env.npm_execpath;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, 'npm');
    if (fs.existsSync(p)) return fs.realpathSync(p);
  }
  throw new Error('npm is not on the PATH');
}

/** The environment without npm's per-run variables and with PATH = binDir only. */
function bareEnv(binDir) {
  const keep = /^(HOME|USER|LOGNAME|LANG|LC_ALL|TZ|TMPDIR|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS|npm_config_(cache|registry|userconfig|globalconfig))$/;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (keep.test(k)) env[k] = v;
  env.PATH = binDir;
  return env;
}

/** The build tools found on a PATH string. */
function reachable(PATH) {
  return BUILD_TOOLS.filter((tool) => PATH.split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, tool))));
}

// Runs in the installed app: prints what the package does there, as JSON.
const LOAD_SCRIPT = `
const path = require('path');
const tf = require('@tensorflow/tfjs');
const rn = require('tfjs-retinanet');
const ops = require('tfjs-retinanet/ops');
(async () => {
  const pkgDir = path.dirname(require.resolve('tfjs-retinanet/package.json'));
  const gypBuild = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
  const out = { pkgDir, addon: path.relative(pkgDir, gypBuild.path(pkgDir)) };
  out.devices = ops.devices();
  out.cuda = ops.cudaInfo();
  const a = new Float32Array([0, 0, 2, 2]);
  const b = new Float32Array([1, 1, 3, 3, 0, 0, 2, 2, 5, 5, 6, 6]);
  out.iou = Array.from(ops.boxIou(a, b));
  if (out.devices.includes('cuda')) {
    out.iouCuda = Array.from(ops.boxIou(a, b, { device: 'cuda' }));
  } else {
    try { ops.boxIou(a, b, { device: 'cuda' }); out.cudaError = 'no error'; } catch (e) { out.cudaError = e.code; }
  }
  await tf.ready();
  out.backend = tf.getBackend();
  out.kernel = tf.getKernel(rn.SIGMOID_FOCAL_LOSS, out.backend) !== undefined;
  const logits = tf.tensor2d([[0]]);
  const labels = tf.tensor1d([0], 'int32');
  out.loss = rn.sigmoidFocalLoss(logits, labels).dataSync()[0];
  out.grad = Array.from(tf.grad((x) => rn.sigmoidFocalLoss(x, labels))(logits).dataSync());
  out.iouTensor = Array.from(rn.boxIou(tf.tensor2d([[0, 0, 2, 2]]), tf.tensor2d([[1, 1, 3, 3]])).dataSync());
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

const TITLE = 'npm pack, then npm install of the tarball with no compiler on the PATH: the prebuilt addon loads and runs ops and tfjs kernels';
const runIt = prebuilt.length > 0;
(runIt ? test : test.skip)(
  runIt ? TITLE : `${TITLE} — skipped: no prebuilds/${PLATFORM}/*.node in this checkout (run \`npm run prebuild\`)`,
  async (t) => {
    t.timeout(300e3, 'pack + install + load + compile consumers');
    t.is(prebuilt.length, 1, `one binary in prebuilds/${PLATFORM}/: ${prebuilt.join(', ')}`);
    const prebuildFile = path.join(PREBUILD_DIR, prebuilt[0]);
    t.true(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/ is built (npm run build:ts)');
    const started = Date.now();

    // What the prebuilt binary was built with: its own cudaInfo(), and the GPU code in its ELF file.
    const built = probe(prebuildFile).cuda.built;
    const archs = fatbinArchs(prebuildFile);
    t.is(archs !== null, built, 'the binary holds GPU code (.nv_fatbin) exactly when cudaInfo().built');
    t.log(`prebuild ${prebuilt[0]}: ${(fs.statSync(prebuildFile).size / 1048576).toFixed(1)} MiB, CUDA built: ${built}` +
      (archs ? ` (SASS sm_${archs.sass.join(', sm_')}; PTX ${archs.ptx.join(', ')})` : ''));

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'retinanet-package-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

    // npm pack
    const packDir = path.join(tmp, 'pack');
    fs.mkdirSync(packDir);
    const packEnv = { ...bareEnv(process.env.PATH || ''), PATH: process.env.PATH };
    const pack = await run(process.execPath, [npmCli(), 'pack', '--ignore-scripts', '--json', '--pack-destination', packDir],
      { cwd: ROOT, env: packEnv });
    t.is(pack.code, 0, `npm pack failed:\n${tail(pack.stderr)}`);
    const [info] = JSON.parse(pack.stdout);
    const tgz = path.join(packDir, info.filename);
    const files = info.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/ops/index.js', 'dist/accel/index.js', 'dist/cli/main.js',
      `prebuilds/${PLATFORM}/${prebuilt[0]}`, 'scripts/install.js', 'scripts/build-native.js', 'CMakeLists.txt', 'binding.gyp',
      'native/binding/addon.cpp']) {
      t.true(files.includes(f), `the tarball has ${f}`);
    }
    for (const dir of ['native/core/', 'native/cpu/', 'native/cuda/', 'native/nocuda/', 'native/accel/', 'native/runtime/']) {
      t.true(files.some((f) => f.startsWith(dir)), `the tarball has ${dir}`);
    }
    t.deepEqual(files.filter((f) => /^(build|test|lib|bench|node_modules|\.ci)\//.test(f)), [], 'no build outputs, tests or TS sources');
    t.log(`tarball ${info.filename}: ${(fs.statSync(tgz).size / 1048576).toFixed(1)} MiB packed, ` +
      `${(info.unpackedSize / 1048576).toFixed(1)} MiB unpacked, ${files.length} files`);

    // A bin folder with node, npm and sh only; the app that installs the tarball.
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync(npmCli(), path.join(bin, 'npm'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs lifecycle scripts with `sh -c`
    const env = bareEnv(bin);
    t.deepEqual(reachable(env.PATH), [], 'no build tool on the bare PATH');
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'retinanet-package-test-app', version: '1.0.0', private: true,
      // The PATH npm gives lifecycle scripts (its own additions included).
      scripts: { 'print-path': 'node -e "console.log(process.env.PATH)"' },
    }, null, 2));

    const install = await run(process.execPath, [npmCli(), 'install', tgz, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'],
      { cwd: app, env, timeoutMs: 100e3 });
    t.is(install.code, 0, `npm install of the tarball failed:\n${tail(install.stdout)}\n${tail(install.stderr)}`);
    const installed = path.join(app, 'node_modules', 'tfjs-retinanet');
    t.false(fs.existsSync(path.join(installed, 'build')), 'the install built nothing (no build/)');
    t.notRegex(install.stdout + install.stderr, /\[tfjs-retinanet\] (cmake-js|node-gyp|could not build)/, 'the install script did not try to build');
    t.is(sha256(path.join(installed, 'prebuilds', PLATFORM, prebuilt[0])), sha256(prebuildFile), 'the installed prebuild is the repo\'s');
    const scriptPath = await run(process.execPath, [npmCli(), 'run', '--silent', 'print-path'], { cwd: app, env });
    t.is(scriptPath.code, 0, scriptPath.stderr);
    t.deepEqual(reachable(scriptPath.stdout.trim()), [], 'no build tool on the PATH npm gives install scripts');

    // Load it in the app.
    const load = await run(process.execPath, ['-e', LOAD_SCRIPT], { cwd: app, env });
    t.is(load.code, 0, `loading the installed package failed:\n${tail(load.stderr)}`);
    const out = JSON.parse(load.stdout.trim().split('\n').pop());
    t.is(fs.realpathSync(out.pkgDir), fs.realpathSync(installed), 'the package resolves to the installed copy');
    t.is(out.addon, path.join('prebuilds', PLATFORM, prebuilt[0]), 'node-gyp-build loads the prebuilt binary');
    t.true(out.devices.includes('cpu'), `devices: ${out.devices}`);
    t.is(out.cuda.built, built, `cudaInfo(): ${JSON.stringify(out.cuda)}`);
    const iou = [1 / 7, 1, 0].map(Math.fround); // [0,0,2,2] against [1,1,3,3]: 1 / (4 + 4 - 1)
    t.deepEqual(out.iou, iou);
    if (out.devices.includes('cuda')) t.deepEqual(out.iouCuda, iou, 'the same IoU on the GPU');
    else t.is(out.cudaError, 'ERR_RETINANET_NO_CUDA', "{ device: 'cuda' } without a usable GPU");
    t.is(out.backend, 'cpu');
    t.true(out.kernel, 'the focal loss kernel is registered on import of the package root');
    // x = 0, foreground, α = 0.25, γ = 2: p = 1/2, FL = α (1-p)^γ ln 2, dFL/dx = α γ p (1-p)^γ ln p - α (1-p)^(γ+1).
    const close = (x, y) => Math.abs(x - y) <= 1e-5 * Math.abs(y);
    t.true(close(out.loss, 0.25 * 0.25 * Math.LN2), `loss ${out.loss}`);
    t.true(close(out.grad[0], 0.25 * 2 * 0.5 * 0.25 * -Math.LN2 - 0.25 * 0.125), `grad ${out.grad}`);
    t.deepEqual(out.iouTensor, [Math.fround(1 / 7)]);
    // Every documented entry point, as a consumer imports it: CommonJS and ESM at run time, and
    // strict TypeScript (no skipLibCheck, no @types/node) under node10, node16 and bundler resolution.
    const entries = ['tfjs-retinanet', 'tfjs-retinanet/ops', 'tfjs-retinanet/data', 'tfjs-retinanet/eval', 'tfjs-retinanet/draw', 'tfjs-retinanet/reference'];
    const cjs = await run(process.execPath, ['-e', `for (const e of ${JSON.stringify(entries)}) { const m = require(e); if (Object.keys(m).length === 0) throw new Error(e + ': empty'); } console.log('ok');`], { cwd: app, env });
    t.is(cjs.code, 0, `require of the entry points failed:\n${tail(cjs.stderr)}`);
    const esm = await run(process.execPath, ['--input-type=module', '-e', `${entries.map((e, i) => `import * as m${i} from '${e}';`).join(' ')} if (![${entries.map((_, i) => `m${i}`).join(', ')}].every((m) => Object.keys(m).length > 0)) process.exit(1); console.log('ok');`], { cwd: app, env });
    t.is(esm.code, 0, `import of the entry points failed:\n${tail(esm.stderr)}`);
    const consumer = [
      "import * as tf from '@tensorflow/tfjs';",
      "import { sigmoidFocalLoss, createRetinaNet, Trainer } from 'tfjs-retinanet';",
      "import * as ops from 'tfjs-retinanet/ops';",
      "import { loadCocoDataset, encodePng } from 'tfjs-retinanet/data';",
      "import { evaluateCoco } from 'tfjs-retinanet/eval';",
      "import { drawDetections } from 'tfjs-retinanet/draw';",
      "import * as reference from 'tfjs-retinanet/reference';",
      'const iou: Float32Array = ops.boxIou(new Float32Array([0, 0, 1, 1]), new Float32Array([0, 0, 1, 1]));',
      'const png: Uint8Array = encodePng({ width: 1, height: 1, data: new Uint8Array(3) });',
      'const loss: tf.Tensor = sigmoidFocalLoss(tf.zeros([1, 1]), tf.zeros([1], \'int32\'));',
      'export const used = [iou, png, loss, createRetinaNet, Trainer, loadCocoDataset, evaluateCoco, drawDetections, reference];',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(app, 'consumer.ts'), consumer);
    fs.writeFileSync(path.join(app, 'consumer.mts'), consumer);
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const common = { strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['es2020', 'dom'], target: 'es2020' };
    for (const [mode, options, files] of [
      ['node10', { module: 'commonjs', moduleResolution: 'node10' }, ['consumer.ts']],
      ['node16', { module: 'node16', moduleResolution: 'node16' }, ['consumer.ts', 'consumer.mts']],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['consumer.ts']],
    ]) {
      fs.writeFileSync(path.join(app, `tsconfig.${mode}.json`), JSON.stringify({ compilerOptions: { ...common, ...options }, files }));
      const r = await run(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`], { cwd: app, env, timeoutMs: 100e3 });
      // tfjs's own declarations (tfjs-layers) do not pass strict checking with skipLibCheck off:
      // only errors in the consumer or in this package's declarations count.
      const ours = r.stdout.split('\n').filter((l) => /^(consumer\.m?ts|node_modules\/tfjs-retinanet\/)/.test(l) || /error TS2307/.test(l));
      t.true(r.code === 0 || r.stdout.includes('node_modules/@tensorflow/'), `tsc (${mode}) failed:\n${tail(r.stdout)}`);
      t.deepEqual(ours, [], `TypeScript (${mode} resolution) on a consumer of every entry point`);
    }
    t.log(`devices ${JSON.stringify(out.devices)}, cudaInfo ${JSON.stringify(out.cuda)}; pack + install + load took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);
