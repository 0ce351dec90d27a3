// RETINANET_CPU_ISA lowers the GEMM's vector path so each can be measured on one machine: the
// path in use is reported, never above what the CPU has, gives the same products as the best
// path, and a value that is not a path stops the load with a clear RangeError.
const test = require('ava');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const RANK = { baseline: 0, avx2: 1, avx512: 2 };

// A 96 x 80 x 72 product through the accelerator's matmul, and the ISA report, in a fresh process.
const SCRIPT = `
const ops = require('./dist/ops');
let s = 1;
const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const a = Float32Array.from({ length: 96 * 72 }, r);
const b = Float32Array.from({ length: 72 * 80 }, r);
const c = ops.batchMatMul(a, b, { batchA: 1, batchB: 1, m: 96, n: 80, k: 72, transposeA: false, transposeB: false });
console.log(JSON.stringify({ isa: ops.cpuIsa(), c: Array.from(c) }));
`;

function run(isa) {
  const env = { ...process.env };
  if (isa === undefined) delete env.RETINANET_CPU_ISA;
  else env.RETINANET_CPU_ISA = isa;
  return spawnSync(process.execPath, ['-e', SCRIPT], { cwd: ROOT, env, encoding: 'utf8' });
}

test('each ISA path reports itself, is capped at the CPU, and gives the best path\'s products', (t) => {
  const best = run(undefined);
  t.is(best.status, 0, best.stderr);
  const ref = JSON.parse(best.stdout);
  t.is(ref.isa.active, ref.isa.supported);
  // Against a float64 product too, so that the paths cannot agree on a wrong answer.
  let s = 1;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const a = Array.from({ length: 96 * 72 }, r);
  const b = Array.from({ length: 72 * 80 }, r);
  for (const isa of ['avx512', 'avx2', 'baseline']) {
    const p = run(isa);
    t.is(p.status, 0, p.stderr);
    const got = JSON.parse(p.stdout);
    const want = RANK[isa] < RANK[ref.isa.supported] ? isa : ref.isa.supported;
    t.is(got.isa.active, want, isa);
    t.is(got.isa.supported, ref.isa.supported);
    let worst = 0;
    for (let i = 0; i < 96; i++) {
      for (let j = 0; j < 80; j++) {
        let acc = 0;
        for (let k = 0; k < 72; k++) acc += a[i * 72 + k] * b[k * 80 + j];
        worst = Math.max(worst, Math.abs(got.c[i * 80 + j] - acc), Math.abs(got.c[i * 80 + j] - ref.c[i * 80 + j]));
      }
    }
    t.true(worst < 1e-5, `${isa}: max |diff| ${worst}`);
  }
});

test('a RETINANET_CPU_ISA that is not a path stops the load with a RangeError naming it', (t) => {
  const p = run('avx1024');
  t.not(p.status, 0);
  t.regex(p.stderr, /RangeError: RETINANET_CPU_ISA: expected avx512, avx2 or baseline, got 'avx1024'/);
});
