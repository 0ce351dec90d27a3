#!/usr/bin/env node
// `npm run prebuild`: the CMake build of the addon (with the CUDA kernels where nvcc is found),
// stripped, as prebuilds/<platform>-<arch>/tfjs-retinanet.napi[.glibc|.musl].node — the file
// node-gyp-build loads first when the package is installed from its tarball, so `npm install`
// needs no compiler.
//
//   node scripts/prebuild.js [--rebuild | --no-build]
//
// An existing build/Release/retinanet.node is reused when it is newer than every native source
// and was built the way a fresh build here would be (CUDA kernels if and only if nvcc is found or
// RETINANET_CUDA=ON; the GPU architectures of RETINANET_CUDA_ARCHS or the default list), so
// running this after `npm install`/`npm ci` costs no second compile. --rebuild always rebuilds;
// --no-build fails instead of building (CI, right after `npm ci`).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { root, has, buildWithCmake } = require('./build-native.js');

const BUILT = path.join(root, 'build', 'Release', 'retinanet.node');
const SOURCES = [path.join(root, 'native'), path.join(root, 'CMakeLists.txt')];
const DEFAULT_ARCHS = '75-real;80-real;86-real;89-real;90'; // CMakeLists.txt's default
const log = (msg) => console.log(`[tfjs-retinanet prebuild] ${msg}`);

/** The file name node-gyp-build picks for this platform: N-API (any Node ≥ the N-API version), libc tagged on Linux. */
function prebuildName() {
  const tags = ['tfjs-retinanet', 'napi'];
  if (process.platform === 'linux') {
    const report = process.report && process.report.getReport();
    tags.push(report && report.header && report.header.glibcVersionRuntime ? 'glibc' : 'musl');
  }
  return `${tags.join('.')}.node`;
}

function newestMtime(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/**
 * The GPU code compiled into an ELF shared object: the `.nv_fatbin` section's entries, as
 * { sass: number[], ptx: number[] } (compute capabilities ×10, e.g. 75), or null without one.
 */
function fatbinArchs(file) {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return null; // ELF64 LE only
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const shstrndx = b.readUInt16LE(0x3e);
  const section = (i) => {
    const h = shoff + i * shentsize;
    return { name: b.readUInt32LE(h), offset: Number(b.readBigUInt64LE(h + 0x18)), size: Number(b.readBigUInt64LE(h + 0x20)) };
  };
  const strtab = section(shstrndx);
  const nameOf = (s) => b.toString('latin1', strtab.offset + s.name, b.indexOf(0, strtab.offset + s.name));
  let fat = null;
  for (let i = 0; i < shnum; i++) if (nameOf(section(i)) === '.nv_fatbin') fat = section(i);
  if (!fat) return null;
  const sass = new Set();
  const ptx = new Set();
  // The section holds one fat binary per .cu file: a 16-byte header (magic 0xBA55ED50, version,
  // header size, payload size), then entries (kind 1 = PTX, 2 = ELF/SASS; header size; payload
  // size; the architecture at byte 28).
  let p = fat.offset;
  const end = fat.offset + fat.size;
  while (p + 16 <= end) {
    if (b.readUInt32LE(p) !== 0xba55ed50) {
      p += 8; // the fat binaries are 8-byte aligned; skip padding
      continue;
    }
    const headerSize = b.readUInt16LE(p + 6);
    const blobEnd = p + headerSize + Number(b.readBigUInt64LE(p + 8));
    for (let e = p + headerSize; e + 32 <= blobEnd;) {
      const kind = b.readUInt16LE(e);
      const arch = b.readUInt32LE(e + 28);
      if (kind === 1) ptx.add(arch);
      else if (kind === 2) sass.add(arch);
      e += b.readUInt32LE(e + 4) + Number(b.readBigUInt64LE(e + 8));
    }
    p = blobEnd;
  }
  const sorted = (s) => [...s].sort((x, y) => x - y);
  return { sass: sorted(sass), ptx: sorted(ptx) };
}

/** What CMAKE_CUDA_ARCHITECTURES = spec compiles, or null for specs this does not model (all, native, ...). */
function expectedArchs(spec) {
  const sass = new Set();
  const ptx = new Set();
  for (const item of spec.split(/[;,]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(-real|-virtual)?$/.exec(item);
    if (!m) return null;
    if (m[2] !== '-virtual') sass.add(Number(m[1]));
    if (m[2] !== '-real') ptx.add(Number(m[1]));
  }
  const sorted = (s) => [...s].sort((x, y) => x - y);
  return { sass: sorted(sass), ptx: sorted(ptx) };
}

/** Loads the addon in a fresh node and returns { cuda: cudaInfo(), devices: devices() }. */
function probe(file) {
  const r = spawnSync(process.execPath, ['-e',
    'const a = require(process.argv[1]); console.log(JSON.stringify({ cuda: a.cudaInfo(), devices: a.devices() }))',
    path.resolve(file)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} does not load: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

/** Whether a fresh build here gets the CUDA kernels, and which architectures. */
function wanted() {
  const env = (process.env.RETINANET_CUDA || '').toUpperCase();
  const cuda = /^(ON|1|TRUE|YES)$/.test(env) ? true : /^(OFF|0|FALSE|NO)$/.test(env) ? false
    : has(process.env.CUDACXX || 'nvcc');
  const spec = process.env.RETINANET_CUDA_ARCHS || DEFAULT_ARCHS;
  return { cuda, spec, archs: cuda ? expectedArchs(spec) : null };
}

const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
const describe = (a) => (a ? `SASS sm_${a.sass.join(', sm_')}${a.ptx.length ? ` + PTX ${a.ptx.join(', ')}` : ''}` : 'no GPU code');

/** Why `file` is not what a fresh build would give (a string), or null when it is. */
function mismatch(file, want) {
  let info;
  try {
    info = probe(file);
  } catch (e) {
    return e.message;
  }
  if (info.cuda.built !== want.cuda) {
    return `it was built ${info.cuda.built ? 'with' : 'without'} CUDA, a build here would be ${want.cuda ? 'with' : 'without'}`;
  }
  if (want.archs) {
    const got = fatbinArchs(file);
    if (!same(got, want.archs)) return `its GPU code is ${describe(got)}, not ${describe(want.archs)} (${want.spec})`;
  }
  return null;
}

function main(argv) {
  const unknown = argv.filter((a) => a !== '--rebuild' && a !== '--no-build');
  if (unknown.length || (argv.includes('--rebuild') && argv.includes('--no-build'))) {
    console.error(`usage: node scripts/prebuild.js [--rebuild | --no-build]   (got: ${argv.join(' ')})`);
    process.exit(2);
  }
  const want = wanted();
  let reason = null;
  if (argv.includes('--rebuild')) reason = '--rebuild';
  else if (!fs.existsSync(BUILT)) reason = `${path.relative(root, BUILT)} does not exist`;
  else if (fs.statSync(BUILT).mtimeMs < Math.max(...SOURCES.map(newestMtime))) reason = 'native sources changed since it was built';
  else reason = mismatch(BUILT, want);

  if (reason) {
    if (argv.includes('--no-build')) {
      console.error(`[tfjs-retinanet prebuild] --no-build: ${path.relative(root, BUILT)} cannot be reused: ${reason}`);
      process.exit(1);
    }
    if (!has('cmake')) {
      console.error('[tfjs-retinanet prebuild] needs CMake (the prebuilt binary is the CMake build, with CUDA where nvcc is found)');
      process.exit(1);
    }
    log(`building (${reason}): CUDA ${want.cuda ? `on, ${want.spec}` : 'off'}`);
    // CUDA forced on when nvcc is found: a broken CUDA toolchain fails here instead of shipping a CPU-only binary.
    if (!buildWithCmake({ cuda: want.cuda ? 'ON' : 'OFF' })) {
      console.error('[tfjs-retinanet prebuild] the CMake build failed');
      process.exit(1);
    }
    const still = mismatch(BUILT, want);
    if (still) {
      console.error(`[tfjs-retinanet prebuild] the fresh build is not as expected: ${still}`);
      process.exit(1);
    }
  } else {
    log(`reusing ${path.relative(root, BUILT)} (newer than native/ and CMakeLists.txt, built as a fresh build would be; --rebuild to rebuild)`);
  }

  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, prebuildName());
  // Stripped and checked in build/ (a .node name, for require; not build/Release/, where
  // node-gyp-build would take any .node file), then moved into place.
  const tmp = path.join(root, 'build', `prebuild-${process.pid}.node`);
  try {
    fs.copyFileSync(BUILT, tmp);
    if (process.platform === 'linux' || process.platform === 'darwin') {
      const r = spawnSync('strip', process.platform === 'darwin' ? ['-Sx', tmp] : ['--strip-all', tmp], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`strip failed${r.error ? `: ${r.error.message}` : ''}`);
    }
    const bad = mismatch(tmp, want);
    if (bad) throw new Error(`the stripped binary is not usable: ${bad}`);
    // One binary per platform directory: older names would compete with this one in node-gyp-build.
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.node')) fs.rmSync(path.join(dir, f));
    fs.renameSync(tmp, dest);
  } catch (e) {
    console.error(`[tfjs-retinanet prebuild] ${e.message}`);
    process.exitCode = 1;
    return;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const info = probe(dest);
  log(`${path.relative(root, dest)}: ${(fs.statSync(dest).size / 1048576).toFixed(1)} MiB, ` +
    `CUDA ${info.cuda.built ? `built (${describe(fatbinArchs(dest))})` : 'not built'}, devices here: ${info.devices.join(', ')}`);
}

module.exports = { prebuildName, fatbinArchs, expectedArchs, probe, mismatch };

if (require.main === module) main(process.argv.slice(2));
