#!/usr/bin/env node
// Builds the addon from source: cmake-js with CMakeLists.txt where CMake is on the PATH (with the
// CUDA kernels where nvcc is found), else node-gyp with binding.gyp (the same C++ core, CPU only).
// Run directly (`npm run build:native`, or by scripts/install.js); scripts/prebuild.js reuses
// buildWithCmake.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');

function run(cmd, args, env = process.env) {
  console.log(`[tfjs-retinanet] ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' });
  return r.status === 0;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status === 0;
}

/**
 * `cmake-js rebuild` (a clean build into build/, the addon at build/Release/retinanet.node).
 * cuda: 'ON' | 'OFF' | undefined (CMake's AUTO: CUDA when nvcc is found); archs: CUDA architectures
 * (CMAKE_CUDA_ARCHITECTURES syntax, e.g. '75' for a quick local build; default sm_75...sm_90 + PTX).
 * Both default to the RETINANET_CUDA and RETINANET_CUDA_ARCHS environment variables.
 */
function buildWithCmake({ cuda = process.env.RETINANET_CUDA, archs = process.env.RETINANET_CUDA_ARCHS } = {}) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  // Every core: nvcc compiles each .cu once per GPU architecture, the slow part of a CUDA build.
  const jobs = Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const args = [cmakeJs, 'rebuild', '--directory', root, '--parallel', String(jobs)];
  if (cuda) args.push(`--CDRETINANET_CUDA=${cuda}`);
  if (archs) args.push(`--CDRETINANET_CUDA_ARCHS=${archs}`);
  // cmake-js takes the Node headers from npm's nodedir, else downloads them; run outside npm (or
  // without nodedir), point it at the running Node's own headers where they are installed.
  const env = { ...process.env };
  const prefix = path.dirname(path.dirname(process.execPath));
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  return run(process.execPath, args, env);
}

function buildWithNodeGyp() {
  // npm sets npm_config_node_gyp to its bundled node-gyp when it runs scripts.
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules',
    'node-gyp', 'bin', 'node-gyp.js');
  const gyp = process.env.npm_config_node_gyp || bundled;
  return run(process.execPath, [gyp, 'rebuild']);
}

/** CMake where present (unless RETINANET_BUILD=node-gyp), else node-gyp; exits 1 when neither builds. */
function main() {
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
}

module.exports = { root, run, has, buildWithCmake, buildWithNodeGyp, main };

if (require.main === module) main();
