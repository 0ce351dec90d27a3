#!/usr/bin/env node
// The addon's C++ sources for binding.gyp (node-gyp), by the rule CMakeLists.txt applies: every
// .cpp in native/cpu, native/accel, native/runtime and their bindings, the CUDA stubs, and the -ffp-contract=fast ones from
// native/fast-math.txt (the one list both builds read).
//   node scripts/native-sources.js fast-math | exact
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function fastMath() {
  return fs.readFileSync(path.join(root, 'native', 'fast-math.txt'), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

function cppIn(dir) {
  return fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.cpp')).sort().map((f) => `${dir}/${f}`);
}

function exact() {
  const fast = new Set(fastMath());
  const dirs = ['native/binding', 'native/accel/binding', 'native/cpu', 'native/accel', 'native/runtime'];
  return [...dirs.flatMap(cppIn).filter((f) => !fast.has(f)), 'native/nocuda/cuda_stubs.cpp'];
}

const which = process.argv[2];
if (which !== 'fast-math' && which !== 'exact') {
  console.error('usage: node scripts/native-sources.js fast-math | exact');
  process.exit(2);
}
process.stdout.write(`${(which === 'fast-math' ? fastMath() : exact()).join(' ')}\n`);
