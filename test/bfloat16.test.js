'use strict';
// The opt-in bfloat16 inference (ops.setInferencePrecision): forward convolutions outside any
// gradient scope equal float64 sums of the bfloat16-rounded input and weights (round to nearest
// even, as vcvtneps2bf16), for 1x1, 3x3 stride 1 and 2, the stem's 7x7 on 3 channels, odd depths,
// several depth blocks and partial tiles, with bias, residual and ReLU; under a gradient tape the
// forward stays float32; bad values and CPUs without AVX512-BF16 are refused clearly.
const test = require('ava');
const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
const R = require('..');
const { conv2dBiasAct } = require('../dist/accel/conv2d-bias-act');
const { prng } = require('../dist/util/prng');

const bf16 = R.ops.cpuIsa().bfloat16;
const onBf16 = bf16 ? test : test.skip;  // skipped visibly where the CPU lacks AVX512-BF16

// A float32 rounded to bfloat16 (kept as a float32): to nearest, ties to even; denormals to zero.
const bits = new Uint32Array(1);
const f32 = new Float32Array(bits.buffer);
function roundBf16(x) {
  f32[0] = x;
  let u = bits[0];
  if ((u & 0x7f800000) === 0) u &= 0x80000000;
  u = (u + 0x7fff + ((u >>> 16) & 1)) >>> 0;
  bits[0] = (u & 0xffff0000) >>> 0;
  return f32[0];
}

// Direct NHWC convolution in float64 with explicit padding; also sum |x||w| per output (the bound
// of float32's summation error).
function convRef(x, xs, w, ws, stride, pad) {
  const [b, h, wd, c] = xs;
  const [fh, fw, , k] = ws;
  const oh = Math.floor((h + 2 * pad - fh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - fw) / stride) + 1;
  const y = new Float64Array(b * oh * ow * k);
  const mag = new Float64Array(y.length);
  for (let n = 0; n < b; n++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let o = 0; o < k; o++) {
    let s = 0, m = 0;
    for (let ky = 0; ky < fh; ky++) for (let kx = 0; kx < fw; kx++) {
      const iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      for (let ci = 0; ci < c; ci++) {
        const p = x[((n * h + iy) * wd + ix) * c + ci] * w[((ky * fw + kx) * c + ci) * k + o];
        s += p;
        m += Math.abs(p);
      }
    }
    const i = ((n * oh + oy) * ow + ox) * k + o;
    y[i] = s;
    mag[i] = m;
  }
  return { y, mag, shape: [b, oh, ow, k] };
}

// [name, input shape, filter shape, stride, pad]: depths 37 (odd), 576 and 1,152 (2 and 3 blocks of
// 512), 147 (7x7x3, odd); output channels 45 and 96 (partial 32-wide strips), pixels not a
// multiple of 8 rows.
const CASES = [
  ['1x1, 37 -> 45', [2, 5, 7, 37], [1, 1, 37, 45], 1, 0],
  ['3x3 stride 1, 64 -> 96', [1, 9, 11, 64], [3, 3, 64, 96], 1, 1],
  ['3x3 stride 2, 128 -> 40', [1, 13, 10, 128], [3, 3, 128, 40], 2, 1],
  ['7x7 stride 2 on 3 channels (the stem)', [1, 23, 19, 3], [7, 7, 3, 64], 2, 3],
];

function data(shape, seed, scale) {
  const r = prng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (r() * 2 - 1));
}

onBf16('bfloat16 forward convolutions equal float64 sums of the rounded input and weights, with bias, residual and ReLU', (t) => {
  CASES.forEach(([name, xs, ws, stride, pad], i) => {
    const x = data(xs, 100 + i, 2);
    const w = data(ws, 200 + i, 0.3);
    const ref = convRef(x.map(roundBf16), xs, w.map(roundBf16), ws, stride, pad);
    const bias = data([ws[3]], 300 + i, 1);
    const residual = data(ref.shape, 400 + i, 1);
    const xt = tf.tensor4d(x, xs), wt = tf.tensor4d(w, ws), bt = tf.tensor1d(bias), rt = tf.tensor4d(residual, ref.shape);
    const padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
    R.ops.setInferencePrecision('bfloat16');
    const plain = tf.conv2d(xt, wt, stride, padding);
    const fused = conv2dBiasAct({ x: xt, filter: wt, bias: bt, residual: rt, strides: stride, pad: padding, activation: 'relu' });
    R.ops.setInferencePrecision('float32');
    const full = tf.conv2d(xt, wt, stride, padding);
    const [p, f, q] = [plain.dataSync(), fused.dataSync(), full.dataSync()];
    let worst = 0, worstFused = 0, differs = 0;
    for (let j = 0; j < p.length; j++) {
      const tol = 1e-6 * ref.mag[j] + 1e-6;  // float32 sums of products that are exact in float32
      worst = Math.max(worst, Math.abs(p[j] - ref.y[j]) / tol);
      const want = Math.max(0, ref.y[j] + bias[j % ws[3]] + residual[j]);
      worstFused = Math.max(worstFused, Math.abs(f[j] - want) / (tol + 1e-6 * Math.abs(want)));
      if (Math.abs(q[j] - p[j]) > 1e-6 * ref.mag[j] + 1e-6) differs++;
    }
    t.true(worst <= 1, `${name}: worst error ${worst.toFixed(2)} of the tolerance`);
    t.true(worstFused <= 1, `${name}, fused: worst error ${worstFused.toFixed(2)} of the tolerance`);
    t.true(differs > p.length / 4, `${name}: the float32 convolution differs from the bfloat16 one (${differs} of ${p.length})`);
    tf.dispose([xt, wt, bt, rt, plain, fused, full]);
  });
});

onBf16('under a gradient tape the forward stays float32 (training is unaffected); the gradient is float32\'s', (t) => {
  const [, xs, ws, stride, pad] = CASES[1];
  const x = tf.tensor4d(data(xs, 1, 1), xs), w = tf.tensor4d(data(ws, 2, 0.2), ws);
  const padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const full = tf.conv2d(x, w, stride, padding);
  const g32 = tf.grad((ww) => tf.conv2d(x, ww, stride, padding).square().sum())(w);
  R.ops.setInferencePrecision('bfloat16');
  let seen;
  const g = tf.grad((ww) => {
    seen = tf.keep(tf.conv2d(x, ww, stride, padding));
    return seen.square().sum();
  })(w);
  R.ops.setInferencePrecision('float32');
  t.deepEqual(Array.from(seen.dataSync()), Array.from(full.dataSync()), 'forward under the tape: float32 bits');
  t.deepEqual(Array.from(g.dataSync()), Array.from(g32.dataSync()), 'gradient: float32 bits');
  tf.dispose([x, w, full, g32, g, seen]);
});

test('setInferencePrecision refuses unknown values; float32 is the default', (t) => {
  t.is(R.ops.inferencePrecision(), 'float32');
  t.throws(() => R.ops.setInferencePrecision('fp16'), { instanceOf: TypeError, message: /precision: expected 'float32' or 'bfloat16', got "fp16"/ });
  t.throws(() => R.ops.setInferencePrecision(undefined), { instanceOf: TypeError });
  t.is(R.ops.inferencePrecision(), 'float32', 'a refused value changes nothing');
});

// Fresh processes: the ISA and the environment are read once.
function inChild(env, script) {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

test('without AVX512-BF16 in use (RETINANET_CPU_ISA=avx2) bfloat16 is refused with a RangeError, float32 runs', (t) => {
  const r = inChild({ RETINANET_CPU_ISA: 'avx2' }, `const R = require('.');
    const out = [String(R.ops.cpuIsa().bfloat16)];
    try { R.ops.setInferencePrecision('bfloat16'); out.push('accepted'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); }
    R.ops.setInferencePrecision('float32');
    out.push(R.ops.inferencePrecision());
    console.log(JSON.stringify(out));`);
  t.is(r.status, 0, r.err);
  const [has, refused, now] = JSON.parse(r.out);
  t.is(has, 'false');
  t.regex(refused, /^RangeError: precision: bfloat16 needs a CPU with AVX512-BF16 and the avx512 path \(this one: avx2\)/);
  t.is(now, 'float32');
});

test('RETINANET_INFERENCE_PRECISION sets the starting value; a bad one is refused where it is read', (t) => {
  const read = `const R = require('.'); try { console.log(R.ops.inferencePrecision()); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
  t.is(inChild({ RETINANET_INFERENCE_PRECISION: 'float32' }, read).out, 'float32');
  t.regex(inChild({ RETINANET_INFERENCE_PRECISION: 'half' }, read).out, /^TypeError: RETINANET_INFERENCE_PRECISION: expected 'float32' or 'bfloat16', got "half"/);
  if (bf16) t.is(inChild({ RETINANET_INFERENCE_PRECISION: 'bfloat16' }, read).out, 'bfloat16');
  else t.regex(inChild({ RETINANET_INFERENCE_PRECISION: 'bfloat16' }, read).out, /^RangeError: RETINANET_INFERENCE_PRECISION: bfloat16 needs/);
});
