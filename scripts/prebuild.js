#!/usr/bin/env node
// `npm run prebuild`: the CMake build of the addon (with the CUDA kernels where nvcc is found),
// stripped, as prebuilds/<platform>-<arch>/tfjs-retinanet.napi[.glibc|.musl].node — the file
// node-gyp-build loads first when the package is installed from its tarball, so `npm install`
// needs no compiler.
//
//   node scripts/prebuild.js [--rebuild | --no-build] [--arch arm64]
//
// An existing build/Release/retinanet.node is reused when it is newer than every native source
// and was built the way a fresh build here would be (CUDA kernels if and only if nvcc is found or
// RETINANET_CUDA=ON; the GPU architectures of RETINANET_CUDA_ARCHS or the default list), so
// running this after `npm install`/`npm ci` costs no second compile. --rebuild always rebuilds;
// --no-build fails instead of building (CI, right after `npm ci`).
//
// --arch arm64 (on an x86-64 Linux machine): prebuilds/linux-arm64/ from a cross build instead
// (scripts/build-arm64.js: Debian's aarch64-linux-gnu cross compiler, CUDA off, into build-arm64/),
// stripped with aarch64-linux-gnu-strip; it fails when the cross compiler is missing. It cannot be
// loaded here, so it is checked as an AArch64 ELF file only, and loaded under qemu-aarch64 when
// RETINANET_ARM64_NODE names an arm64 node binary (scripts/check-arm64.sh sets it). Without
// --arch (or with this machine's own arch) nothing changes.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { root, has, buildWithCmake } = require('./build-native.js');
const arm64 = require('./build-arm64.js');

const BUILT = path.join(root, 'build', 'Release', 'retinanet.node');
const SOURCES = [path.join(root, 'native'), path.join(root, 'CMakeLists.txt')];
const DEFAULT_ARCHS = '75-real;80-real;86-real;89-real;90'; // CMakeLists.txt's default
const log = (msg) => console.log(`[tfjs-retinanet prebuild] ${msg}`);

/**
 * The file name node-gyp-build picks for this platform: N-API (any Node ≥ the N-API version), libc
 * tagged on Linux (this machine's, or `libc` for a cross build's target).
 */
function prebuildName(libc) {
  const tags = ['tfjs-retinanet', 'napi'];
  if (libc) {
    tags.push(libc);
  } else if (process.platform === 'linux') {
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

/** `--arch X` / `--arch=X` taken out of argv: { argv: the rest, arch: X or null }. */
function takeArch(argv) {
  const rest = [];
  let arch = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--arch' && i + 1 < argv.length) arch = argv[++i];
    else if (argv[i].startsWith('--arch=')) arch = argv[i].slice('--arch='.length);
    else rest.push(argv[i]);
  }
  return { argv: rest, arch };
}

/** `--arch arm64` on another machine: the cross build, stripped, into prebuilds/linux-arm64/. */
function mainArm64(argv) {
  const fail = (msg) => {
    console.error(`[tfjs-retinanet prebuild] --arch arm64: ${msg}`);
    process.exit(1);
  };
  if (process.platform !== 'linux') fail(`the cross build runs on Linux only (this is ${process.platform})`);
  const built = path.relative(root, arm64.BUILT);
  const stale = () => !fs.existsSync(arm64.BUILT) ||
    fs.statSync(arm64.BUILT).mtimeMs < Math.max(...[...SOURCES, arm64.TOOLCHAIN].map(newestMtime));
  if (argv.includes('--no-build')) {
    if (stale()) fail(`--no-build: ${built} is missing or older than the native sources`);
    if (!has(`${arm64.TRIPLET}-strip`)) fail(`needs ${arm64.TRIPLET}-strip (apt-get install binutils-${arm64.TRIPLET})`);
    log(`reusing ${built}`);
  } else {
    const missing = arm64.missingTools();
    if (missing) fail(missing);
    log(`cross building for linux-arm64 into ${path.relative(root, arm64.BUILD_DIR)}/ (${arm64.TRIPLET}, CUDA off)`);
    if (!arm64.crossBuildArm64({ rebuild: argv.includes('--rebuild') })) fail('the cross build failed');
  }

  const dir = path.join(root, 'prebuilds', 'linux-arm64');
  fs.mkdirSync(dir, { recursive: true });
  // Debian's aarch64-linux-gnu toolchain links against glibc.
  const dest = path.join(dir, prebuildName('glibc'));
  const tmp = path.join(arm64.BUILD_DIR, `prebuild-${process.pid}.node`);
  let loaded = 'not loaded (set RETINANET_ARM64_NODE to an arm64 node to load it under qemu-aarch64)';
  let error = null;
  try {
    fs.copyFileSync(arm64.BUILT, tmp);
    const r = spawnSync(`${arm64.TRIPLET}-strip`, ['--strip-all', tmp], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${arm64.TRIPLET}-strip failed${r.error ? `: ${r.error.message}` : ''}`);
    if (arm64.elfMachine(tmp) !== arm64.EM_AARCH64) throw new Error('the stripped binary is not an AArch64 ELF file');
    const node = process.env.RETINANET_ARM64_NODE;
    if (node) {
      const q = spawnSync('qemu-aarch64', ['-L', `/usr/${arm64.TRIPLET}`, node, '-e',
        'const a = require(process.argv[1]); console.log(JSON.stringify({ cuda: a.cudaInfo(), devices: a.devices(), isa: a.cpuIsa() }))',
        path.resolve(tmp)], { encoding: 'utf8' });
      if (q.status !== 0) {
        const why = q.error ? q.error.message : `${q.stderr || ''}${q.stdout || ''}`.trim() || `exit status ${q.status}`;
        throw new Error(`the stripped binary does not load in ${node} under qemu-aarch64: ${why}`);
      }
      const info = JSON.parse(q.stdout);
      if (info.cuda.built) throw new Error('the arm64 binary was built with CUDA');
      loaded = `loads under qemu-aarch64 (devices: ${info.devices.join(', ')}, cpuIsa: ${info.isa.active})`;
    }
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.node')) fs.rmSync(path.join(dir, f));
    fs.renameSync(tmp, dest);
  } catch (e) {
    error = e.message;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (error) fail(error);
  log(`${path.relative(root, dest)}: ${(fs.statSync(dest).size / 1048576).toFixed(1)} MiB, AArch64, CUDA not built, ${loaded}`);
}

function main(argv) {
  const { argv: rest, arch } = takeArch(argv);
  if (arch !== null && arch !== process.arch) {
    if (arch !== 'arm64' || rest.some((a) => a !== '--rebuild' && a !== '--no-build') ||
        (rest.includes('--rebuild') && rest.includes('--no-build'))) {
      console.error(`usage: node scripts/prebuild.js [--rebuild | --no-build] [--arch arm64]   (got: ${argv.join(' ')}; ` +
        `the only cross target is arm64, from Linux)`);
      process.exit(2);
    }
    mainArm64(rest);
    return;
  }
  argv = rest;
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
