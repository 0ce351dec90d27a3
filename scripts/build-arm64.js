#!/usr/bin/env node
// The linux-arm64 addon, cross-compiled on any Linux machine that has Debian's aarch64 cross
// compiler (`apt-get install g++-aarch64-linux-gnu`): cmake-js with CMakeLists.txt and the
// toolchain file cmake/aarch64-linux-gnu.cmake, CUDA off, into build-arm64/ (the addon at
// build-arm64/Release/retinanet.node). The Node-API headers are the x64 build's (node-addon-api
// and Node's include dir, found the same way): they do not depend on the architecture.
// scripts/prebuild.js uses it for `npm run prebuild -- --arch arm64`, scripts/check-arm64.sh too.
//
//   node scripts/build-arm64.js [--rebuild]      (RETINANET_BUILD_JOBS=N: N compile jobs)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { root, run, has } = require('./build-native.js');

const TRIPLET = 'aarch64-linux-gnu';
const TOOLCHAIN = path.join(root, 'cmake', `${TRIPLET}.cmake`);
const BUILD_DIR = path.join(root, 'build-arm64');
const BUILT = path.join(BUILD_DIR, 'Release', 'retinanet.node');
const EM_AARCH64 = 183; // ELF e_machine

/** What the cross build needs and this machine lacks, as a message ('' when nothing is missing). */
function missingTools() {
  const missing = [`${TRIPLET}-g++`, `${TRIPLET}-strip`, 'cmake'].filter((t) => !has(t));
  if (!missing.length) return '';
  return `the linux-arm64 cross build needs ${missing.join(', ')}, not found on the PATH ` +
    `(Debian/Ubuntu: apt-get install g++-${TRIPLET} binutils-${TRIPLET} cmake)`;
}

/** The ELF machine of a file (183: AArch64, 62: x86-64), or null when it is not ELF. */
function elfMachine(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    if (fs.readSync(fd, b, 0, 20, 0) < 20 || b.readUInt32BE(0) !== 0x7f454c46) return null;
    return b[5] === 1 ? b.readUInt16LE(18) : b.readUInt16BE(18);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * cmake-js `build` (incremental; `rebuild`: from scratch) of the arm64 addon into build-arm64/.
 * jobs: compile jobs (default RETINANET_BUILD_JOBS, else every core). Returns true when it built.
 */
function crossBuildArm64({ rebuild = false, jobs = process.env.RETINANET_BUILD_JOBS } = {}) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const n = Number(jobs) >= 1 ? Math.floor(Number(jobs))
    : Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  // A build folder configured for another compiler (or without the toolchain file) cannot be
  // switched over by CMake: start it again.
  const cache = path.join(BUILD_DIR, 'CMakeCache.txt');
  if (!rebuild && fs.existsSync(cache) && !fs.readFileSync(cache, 'utf8').includes(TOOLCHAIN)) rebuild = true;
  const args = [cmakeJs, rebuild ? 'rebuild' : 'build', '--directory', root, '--out', BUILD_DIR, '--arch', 'arm64',
    '--parallel', String(n), `--CDCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}`, '--CDRETINANET_CUDA=OFF'];
  // The same Node headers as scripts/build-native.js: npm's nodedir, else the running Node's own.
  const env = { ...process.env };
  const prefix = path.dirname(path.dirname(process.execPath));
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  if (!run(process.execPath, args, env)) return false;
  if (!fs.existsSync(BUILT)) {
    console.error(`[tfjs-retinanet] the arm64 build made no ${path.relative(root, BUILT)}`);
    return false;
  }
  if (elfMachine(BUILT) !== EM_AARCH64) {
    console.error(`[tfjs-retinanet] ${path.relative(root, BUILT)} is not an AArch64 ELF file (e_machine ${elfMachine(BUILT)})`);
    return false;
  }
  return true;
}

module.exports = { TRIPLET, TOOLCHAIN, BUILD_DIR, BUILT, EM_AARCH64, missingTools, elfMachine, crossBuildArm64 };

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.some((a) => a !== '--rebuild')) {
    console.error(`usage: node scripts/build-arm64.js [--rebuild]   (got: ${argv.join(' ')})`);
    process.exit(2);
  }
  const missing = missingTools();
  if (missing) {
    console.error(`[tfjs-retinanet] ${missing}`);
    process.exit(1);
  }
  if (!crossBuildArm64({ rebuild: argv.includes('--rebuild') })) process.exit(1);
}
