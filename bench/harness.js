'use strict';
// Runs groups of benchmark.js cases side by side and prints / records a table of medians.
const Benchmark = require('benchmark');
const fs = require('fs');
const os = require('os');
const { spawnSync } = require('child_process');

// Convolutions at the paper's sizes: [title, input NHWC, filter HWIO, stride, pad].
const CONV_SHAPES = [
  ['conv 3×3 256→256 on 75×75 (head at P3, 600 px)', [1, 75, 75, 256], [3, 3, 256, 256], 1, 'same'],
  ['conv 1×1 1024→256 on 38×38 (ResNet-50 C4)', [1, 38, 38, 1024], [1, 1, 1024, 256], 1, 'valid'],
  ['conv 3×3 stride 2 128→128, 150×150 → 75×75 (ResNet-50 C3)', [1, 150, 150, 128], [3, 3, 128, 128], 2, 'same'],
];

function median(sample) {
  const s = [...sample].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median ms per call of `fn` after one warm-up call: at least 3 calls, more while `budgetMs` of
 * wall time lasts, at most `maxCalls` (the benchmarks that run each path in its own process).
 */
function medianCallMs(fn, budgetMs, maxCalls = 50) {
  fn();
  const times = [];
  const until = Date.now() + budgetMs;
  while (times.length < 3 || (Date.now() < until && times.length < maxCalls)) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

/**
 * Runs `script` again in a fresh process with `env` added (the addon reads its path settings
 * once, at load) and returns the JSON of its last stdout line; a failed run ends this one with
 * its stderr, naming `what`.
 */
function runFresh(script, env, what) {
  const p = spawnSync(process.execPath, [script, ...process.argv.slice(2)], {
    env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 24,
  });
  if (p.status !== 0) {
    console.error(`\n${what} failed (status ${p.status}):\n${p.stderr}`);
    process.exit(1);
  }
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

/**
 * cases: [{ name, fn }]; the first is the reference for the ratio column. Returns rows with
 * median ms, relative margin of error and ops/s.
 */
function runGroup(title, cases, { maxTime = 3, minSamples = 8 } = {}) {
  process.stdout.write(`\n${title}\n`);
  const rows = [];
  for (const c of cases) {
    process.stdout.write(`  ${c.name} … `);
    if (c.once) {
      // Seconds per call (tfjs's own kernels on big shapes): one timed call, no statistics.
      const t0 = process.hrtime.bigint();
      c.fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      rows.push({ group: title, name: c.name, medianMs: ms, rme: NaN, hz: 1000 / ms, samples: 1 });
      process.stdout.write(`${ms.toFixed(1)} ms (one call)\n`);
      continue;
    }
    const b = new Benchmark(c.name, c.fn, { maxTime, minSamples, initCount: 1 });
    b.run();
    if (b.error) throw b.error;
    const row = {
      group: title, name: c.name, medianMs: median(b.stats.sample) * 1e3, rme: b.stats.rme,
      hz: b.hz, samples: b.stats.sample.length,
    };
    rows.push(row);
    process.stdout.write(`${row.medianMs.toFixed(3)} ms (±${row.rme.toFixed(1)}%, ${row.samples} samples)\n`);
  }
  const ref = rows[0].medianMs;
  for (const r of rows) r.ratio = r.medianMs / ref;
  return rows;
}

// The x86 family and model from /proc/cpuinfo, and AMD's core generation from them: a VM's model
// name is often just "AMD EPYC" or "Intel(R) Xeon(R) Processor" for several generations.
function cpuGeneration() {
  let text;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
  const field = (name) => {
    const m = new RegExp(`^${name}\\s*:\\s*(\\S+)`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const family = field('cpu family');
  const model = field('model');
  if (!Number.isInteger(family) || !Number.isInteger(model)) return '';
  const amd = /AuthenticAMD/.test(text);
  const zen4 = (m) => (m >= 0x10 && m <= 0x1f) || (m >= 0x60 && m <= 0x7f) || (m >= 0xa0 && m <= 0xaf);
  const zen = !amd ? '' : family === 0x1a ? 'Zen 5, ' : family === 0x19 ? (zen4(model) ? 'Zen 4, ' : 'Zen 3, ') : family === 0x17 ? 'Zen 1/2, ' : '';
  return ` (${zen}family ${family} model ${model})`;
}

// How the logical CPUs sit on physical cores (Linux sysfs): "2 cores, no SMT" or "1 core, 2 SMT
// siblings" — two siblings share one core's FMA units, so the same CPU model gives other figures.
function topology() {
  const cores = new Set();
  let logical = 0;
  try {
    for (const d of fs.readdirSync('/sys/devices/system/cpu')) {
      if (!/^cpu\d+$/.test(d)) continue;
      const t = `/sys/devices/system/cpu/${d}/topology`;
      if (!fs.existsSync(`${t}/core_id`)) continue;
      cores.add(`${fs.readFileSync(`${t}/physical_package_id`, 'utf8').trim()}:${fs.readFileSync(`${t}/core_id`, 'utf8').trim()}`);
      logical++;
    }
  } catch {
    return 'topology unknown';
  }
  if (logical === 0) return 'topology unknown';
  const n = cores.size;
  return logical === n ? `${n} core${n === 1 ? '' : 's'}, no SMT` : `${n} core${n === 1 ? '' : 's'}, ${logical / n} SMT threads each`;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0] ? cpus[0].model.trim() + cpuGeneration() : 'unknown',
    cores: cpus.length,
    topology: topology(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

// With RETINANET_CPU_ISA forcing a lower vector path than the CPU has, a benchmark stands in for
// a machine without the better ones: the environment that limits torch the same way (its
// convolutions are oneDNN's, which JIT-compiles for the ISA ONEDNN_MAX_CPU_ISA allows; ATen's
// own kernels follow ATEN_CPU_CAPABILITY), and the label for that emulated machine kind; {} and ''
// when no path is forced. ONNX Runtime's MLAS has no such switch.
const PEER_ISA = { avx2: { ONEDNN_MAX_CPU_ISA: 'AVX2', ATEN_CPU_CAPABILITY: 'avx2' }, baseline: { ONEDNN_MAX_CPU_ISA: 'SSE41', ATEN_CPU_CAPABILITY: 'default' } };
function forcedIsa(isa) {
  if (isa.active === isa.supported || !PEER_ISA[isa.active]) return { env: {}, label: '' };
  return { env: PEER_ISA[isa.active], label: `${isa.active} path forced (the CPU has ${isa.supported})` };
}

function table(rows) {
  const lines = ['| case | variant | median ms | ± % | ops/s | × vs first |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.group} | ${r.name} | ${r.medianMs.toFixed(3)} | ${Number.isNaN(r.rme) ? "–" : r.rme.toFixed(1)} | ${r.hz.toFixed(1)} | ${r.ratio.toFixed(2)} |`);
  }
  return lines.join('\n');
}

module.exports = { runGroup, machine, forcedIsa, table, median, medianCallMs, runFresh, CONV_SHAPES };
