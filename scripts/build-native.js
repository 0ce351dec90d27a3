#!/usr/bin/env node
// Builds the addon from source: cmake-js with CMakeLists.txt where CMake is on the PATH (with the
// CUDA kernels where nvcc is found), else node-gyp with binding.gyp (the same C++ core, CPU only).
'use strict';
const { spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');

function run(cmd, args) {
  console.log(`[tfjs-retinanet] ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  return r.status === 0;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status === 0;
}

function buildWithCmake() {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  // Every core: nvcc compiles each .cu once per GPU architecture, the slow part of a CUDA build.
  const jobs = Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const args = [cmakeJs, 'rebuild', '--directory', root, '--parallel', String(jobs)];
  // CUDA is built when nvcc is found; RETINANET_CUDA=ON/OFF forces it, RETINANET_CUDA_ARCHS picks
  // the GPU architectures (e.g. 75 for a quick local build; default sm_75...sm_90 + PTX).
  if (process.env.RETINANET_CUDA) args.push(`--CDRETINANET_CUDA=${process.env.RETINANET_CUDA}`);
  if (process.env.RETINANET_CUDA_ARCHS) args.push(`--CDRETINANET_CUDA_ARCHS=${process.env.RETINANET_CUDA_ARCHS}`);
  return run(process.execPath, args);
}

function buildWithNodeGyp() {
  // npm sets npm_config_node_gyp to its bundled node-gyp when it runs scripts.
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules',
    'node-gyp', 'bin', 'node-gyp.js');
  const gyp = process.env.npm_config_node_gyp || bundled;
  return run(process.execPath, [gyp, 'rebuild']);
}

const preferGyp = process.env.RETINANET_BUILD === 'node-gyp';
let ok = false;
if (!preferGyp && has('cmake')) {
  try {
    ok = buildWithCmake();
  } catch (e) {
    console.warn(`[tfjs-retinanet] cmake-js unavailable (${e.message}); trying node-gyp`);
  }
  if (!ok) console.warn('[tfjs-retinanet] the CMake build failed; trying node-gyp');
}
if (!ok) ok = buildWithNodeGyp();
if (!ok) {
  console.error('[tfjs-retinanet] could not build the native addon: install CMake or a C++17 compiler with node-gyp');
  process.exit(1);
}
