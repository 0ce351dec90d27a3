'use strict';
// Shared by the tests that hold a native cpu kernel against tfjs's own: counting the addon's calls
// (to show a comparison did run the native kernel) and running one computation both ways.
const tf = require('@tensorflow/tfjs');
const R = require('../..');

/**
 * Wraps the addon's functions `names` to count their calls; returns the live counts and
 * `counted(f)`, the calls f made.
 */
function countAddonCalls(names) {
  const addon = require('../../dist/runtime/addon').native();
  const calls = Object.fromEntries(names.map((n) => [n, 0]));
  for (const name of names) {
    const f = addon[name];
    addon[name] = (...args) => {
      calls[name]++;
      return f(...args);
    };
  }
  const counted = (f) => {
    const before = { ...calls };
    f();
    return Object.fromEntries(names.map((k) => [k, calls[k] - before[k]]));
  };
  return { addon, calls, counted };
}

/** A tensor as { shape, dtype, bytes }. */
function snapshot(r) {
  return { shape: r.shape, dtype: r.dtype, bytes: Buffer.from(r.dataSync().slice().buffer) };
}

/**
 * f's result — a tensor or an array of them, each as { shape, dtype, bytes }, or the error it
 * throws — with the native kernels and with tfjs's own: [native, tfjs].
 */
function bothWays(f) {
  const run = () => {
    try {
      return tf.tidy(() => {
        const r = f();
        return Array.isArray(r) ? r.map(snapshot) : snapshot(r);
      });
    } catch (e) {
      return { error: e.constructor.name, message: e.message };
    }
  };
  R.useNativeCpuKernels(true);
  const a = run();
  R.useNativeCpuKernels(false);
  const b = run();
  R.useNativeCpuKernels(true);
  return [a, b];
}

/** bothWays(f), asserted equal; returns the native result. */
function sameBothWays(t, f, what) {
  const [a, b] = bothWays(f);
  t.deepEqual(a, b, what);
  return a;
}

module.exports = { countAddonCalls, bothWays, sameBothWays };
