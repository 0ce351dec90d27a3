// `npm run focal-vs-ce` (node dist-experiments/focal-vs-ce.js): the paper's central comparison —
// focal loss vs α-balanced cross entropy (Tables 1a and 1b, every row over several seeds), the
// §5.1 no-prior experiment and Figure 4 — at the paper's kind of imbalance (about one foreground
// anchor in a thousand: few small objects in larger images) with the project's training recipe
// (the Trainer's defaults: learning rate, warm-up, step schedule, no gradient clipping) and an
// AP-vs-iteration curve per run so that a reader sees whether AP has plateaued.
// Each run trains in segments of `eval-every` iterations of one schedule and is evaluated on the
// held-out images after each; a cut-off run resumes from its checkpoint, finished runs are reused.
// Outputs: OUT/results.json, OUT/tables.md, OUT/curves.svg, OUT/figure4-*.svg.
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../dist/data/atomic-write';
import { lineChartSvg } from '../dist/plot/line-chart';
import { CommandSpec, Flags, UsageError } from '../dist/cli/args';
import { mean, openResults, pct, runAsScript, runInChild as childRun, std } from './harness';
import { runEvaluation } from '../dist/cli/eval';
import { runTraining } from '../dist/cli/train';
import { base, Budget, Data, figure4, foregroundRatio, initialCheckpoint, loadData, LossCdf, makeData, RunSpec, runKey } from './ablations';

export const FOCAL_VS_CE: CommandSpec = {
  name: 'focal-vs-ce',
  summary: 'FL vs α-balanced CE at ~1:1000 foreground, trained with the default recipe and evaluated along the way (Tables 1a/1b over seeds, §5.1 without the prior, Figure 4).',
  flags: [
    { name: 'out', type: 'string', value: 'DIR', default: 'runs/focal-vs-ce', help: 'output folder' },
    { name: 'quick', type: 'boolean', default: false, help: 'a tiny version (64 px, a few iterations) that checks the whole pipeline' },
    { name: 'seeds', type: 'int', min: 1, default: 3, help: 'seeds of every row' },
    { name: 'first-seed', type: 'int', min: 1, default: 1, help: 'the first seed to run (seeds first-seed..seeds; to add seeds to rows whose earlier seeds ran elsewhere)' },
    { name: 'jobs', type: 'int', min: 1, default: 2, help: 'runs in parallel (child processes; 1: in this process)' },
    { name: 'iterations', type: 'int', min: 1, help: 'training iterations per run (default 1500; --quick 6)' },
    { name: 'eval-every', type: 'int', min: 1, help: 'iterations between evaluations (default 250; --quick 3)' },
    { name: 'class-outputs', type: 'int', min: 1, help: 'class outputs of the model (default: the 3 classes); more adds classes no image has, so that every anchor has that many negative logits: the paper\'s per-logit imbalance (80 outputs)' },
    { name: 'warmup-factor', type: 'number', min: 0, help: 'the warm-up\'s starting fraction of the learning rate (default: the Trainer\'s 0.001; Detectron\'s RetinaNet used 1/3)' },
    { name: 'normalizer', type: 'string', choices: ['ema', 'batch'], help: 'what the losses are divided by (default: the Trainer\'s ema, a moving average of the foreground count; batch: the batch\'s own count, the paper\'s and Detectron\'s)' },
    { name: 'rows', type: 'string', value: 'LIST', default: 'all', help: 'comma-separated subset of ce.25,ce.5,ce.75,ce.9,fl.5,fl1,fl2,fl5,no-prior (or all)' },
    { name: 'worker', type: 'string', value: 'KEY', help: 'internal: run one setting (used by --jobs > 1)' },
  ],
};

export interface CurveBudget extends Budget {
  evalEvery: number;
  /** Class outputs when more than `classes` (the rest are classes no image has). */
  classOutputs?: number;
  /** The warm-up's starting fraction of the learning rate, when not the Trainer's default. */
  warmupFactor?: number;
  /** The loss normalizer, when not the Trainer's default ('ema'). */
  normalizer?: 'ema' | 'batch';
}

export interface CurvePoint { iteration: number; ap: number; ap50: number; loss: number }

export interface CurveResult {
  key: string;
  spec: RunSpec;
  ap: number;
  ap50: number;
  ap75: number;
  curve: CurvePoint[];
  /** Recoveries from divergence (the Trainer's: weights back to a snapshot, learning rate halved). */
  recoveries: number;
  /** Largest global gradient norm seen (no clipping: how large CE's early gradients get). */
  maxGradNorm: number;
  seconds: number;
  /** Set when training stopped on a non-finite loss (only the no-prior run may: it has no recoveries). */
  diverged?: string;
}

export function curveBudget(quick: boolean, flags?: Flags): CurveBudget {
  const get = (name: string, full: number, small: number): number => (flags?.has(name) ? flags.int(name) : quick ? small : full);
  // 320 px, 1-4 objects of 12-32 px (3 on average), 3 classes: r18-tiny's 19,206 anchors per
  // image hold about 20 foreground ones, fg:bg about 1:970 (printed by the run).
  return {
    preset: 'retinanet-r18-tiny',
    size: quick ? 64 : 320,
    classes: 3,
    minObject: quick ? 8 : 12,
    maxObject: 32,
    objects: quick ? 3 : 4,
    trainImages: quick ? 8 : 1000,
    valImages: quick ? 4 : 200,
    iterations: get('iterations', 1500, 6),
    batch: quick ? 2 : 4,
    // The Trainer's default for a batch of 4 (0.08 × 4 / 16), no clipping: the project's recipe.
    lr: 0.08 * (quick ? 2 : 4) / 16,
    clipGradNorm: 0,
    dataSeed: 11,
    evalEvery: get('eval-every', 250, 3),
    // Only when asked for, so that the usual budget (and the runs it keys) stays as it was.
    ...(flags?.has('class-outputs') && flags.int('class-outputs') > 3 ? { classOutputs: flags.int('class-outputs') } : {}),
    ...(flags?.has('warmup-factor') ? { warmupFactor: flags.number('warmup-factor') } : {}),
    ...(flags?.has('normalizer') ? { normalizer: flags.string('normalizer') as 'ema' | 'batch' } : {}),
  };
}

/**
 * Adds `total - classes` categories that no annotation uses to both splits' instances.json (ids
 * after the real ones, so the real classes keep their labels 0..classes-1): the model then has
 * `total` class outputs, and every anchor as many negative logits, as in the paper's 80-class
 * heads. COCO AP averages over the categories with ground truth, so the extra ones do not count.
 */
function padCategories(out: string, total: number): void {
  for (const split of ['train', 'val']) {
    const file = path.join(out, 'data', split, 'instances.json');
    const coco = JSON.parse(fs.readFileSync(file, 'utf8')) as { categories: { id: number; name: string }[] };
    if (coco.categories.length >= total) continue;
    const top = Math.max(...coco.categories.map((c) => c.id));
    for (let i = coco.categories.length; i < total; i++) coco.categories.push({ id: top + 1 + i, name: `unused-${i}` });
    writeFileAtomic(file, JSON.stringify(coco));
  }
}

function dataOf(out: string, b: CurveBudget): Data {
  const data = makeData(out, b);
  if (b.classOutputs === undefined) return data;
  padCategories(out, b.classOutputs);
  return loadData(out);
}

export interface Row { id: string; table: '1a' | '1b' | 'prior'; label: string; spec: RunSpec; paper: string }

/** The rows at seed 1; every row but the no-prior one is run for each seed. */
export function rows(): Row[] {
  return [
    { id: 'ce.25', table: '1a', label: 'CE, α = .25', spec: base({ gamma: 0, alpha: 0.25 }), paper: '10.8' },
    { id: 'ce.5', table: '1a', label: 'CE, α = .50', spec: base({ gamma: 0, alpha: 0.5 }), paper: '30.2' },
    { id: 'ce.75', table: '1a', label: 'CE, α = .75', spec: base({ gamma: 0, alpha: 0.75 }), paper: '31.1' },
    { id: 'ce.9', table: '1a', label: 'CE, α = .90', spec: base({ gamma: 0, alpha: 0.9 }), paper: '30.8' },
    { id: 'fl.5', table: '1b', label: 'FL, γ = 0.5, α = .50', spec: base({ gamma: 0.5, alpha: 0.5 }), paper: '32.9' },
    { id: 'fl1', table: '1b', label: 'FL, γ = 1, α = .25', spec: base({ gamma: 1, alpha: 0.25 }), paper: '33.7' },
    { id: 'fl2', table: '1b', label: 'FL, γ = 2, α = .25', spec: base({}), paper: '34.0' },
    { id: 'fl5', table: '1b', label: 'FL, γ = 5, α = .25', spec: base({ gamma: 5, alpha: 0.25 }), paper: '32.2' },
    // §5.1: standard (unweighted) CE with the class output's bias at 0 (π = .5), no clipping and no recoveries.
    { id: 'no-prior', table: 'prior', label: 'CE, no α, bias 0 (π = .5)', spec: base({ gamma: 0, alpha: null, prior: 0.5 }), paper: 'diverges' },
  ];
}

/**
 * The queue, most telling first (a cut-off run keeps what finished): seed 1 of every row (the
 * no-prior run after the key pair CE α = .75 / FL γ = 2), the key pair's other seeds, then the
 * other rows' other seeds.
 */
export function queue(seeds: number, ids?: ReadonlySet<string>, firstSeed = 1): RunSpec[] {
  const every = rows();
  const key = ['ce.75', 'fl2', 'no-prior'];
  const rs = [...key.map(rowById), ...every.filter((r) => !key.includes(r.id))].filter((r) => !ids || ids.has(r.id));
  const more = (pick: (r: Row) => boolean): RunSpec[] => {
    const out: RunSpec[] = [];
    for (let s = 2; s <= seeds; s++) for (const r of rs) if (r.table !== 'prior' && pick(r)) out.push({ ...r.spec, seed: s });
    return out;
  };
  // The no-prior run is seed 1 only: a first seed above 1 leaves it out.
  const all = [...rs.map((r) => r.spec), ...more((r) => key.includes(r.id)), ...more((r) => !key.includes(r.id))];
  return all.filter((s) => s.seed >= firstSeed);
}

function rowById(id: string): Row {
  return rows().find((r) => r.id === id) as Row;
}

function parseRows(s: string): Set<string> | undefined {
  if (s === 'all') return undefined;
  const known = rows().map((r) => r.id);
  const ids = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  for (const id of ids) if (!known.includes(id)) throw new UsageError('focal-vs-ce', `--rows: unknown row '${id}' (expected ${known.join(', ')} or all)`);
  return new Set(ids);
}

const NO_RECOVERY = (s: RunSpec): boolean => s.prior >= 0.5;

/** Trains one setting in segments, evaluating after each; resumes a cut-off run. */
export function trainWithCurve(out: string, b: CurveBudget, data: Data, s: RunSpec): CurveResult {
  const key = runKey(s);
  const dir = path.join(out, 'runs', key);
  const done = path.join(dir, 'result.json');
  if (fs.existsSync(done)) return JSON.parse(fs.readFileSync(done, 'utf8')) as CurveResult;
  const trainerOptions = {
    ...(NO_RECOVERY(s) ? { maxRecoveries: 0 } : {}), ...(b.warmupFactor !== undefined ? { warmupFactor: b.warmupFactor } : {}),
    ...(b.normalizer !== undefined ? { normalizer: b.normalizer } : {}),
  };
  initialCheckpoint(dir, b, data, s, trainerOptions);
  const curveFile = path.join(dir, 'curve.json');
  const saved = fs.existsSync(curveFile) ? (JSON.parse(fs.readFileSync(curveFile, 'utf8')) as Omit<CurveResult, 'key' | 'spec' | 'ap' | 'ap50' | 'ap75'>) : undefined;
  const state = saved ?? { curve: [], recoveries: 0, maxGradNorm: 0, seconds: 0 };
  const classNames = data.train.categories.map((c) => c.name);
  let last: [number, number, number] = [0, 0, 0];
  let diverged: string | undefined;
  let at = state.curve.length > 0 ? state.curve[state.curve.length - 1].iteration : 0;
  while (at < b.iterations && diverged === undefined) {
    const stopAt = Math.min(b.iterations, at + b.evalEvery);
    const t0 = Date.now();
    try {
      const run = runTraining({
        dataset: data.train, source: data.trainDir, out: dir, preset: b.preset, batch: b.batch, minSize: b.size, maxSize: b.size, flip: true,
        checkpointEvery: b.evalEvery, resume: true, stopAt, seed: s.seed, quiet: true,
      });
      run.trainer.dispose();
      const segment = run.log.filter((r) => r.iteration >= at && r.iteration < stopAt);
      state.recoveries += run.recoveries.length;
      for (const r of segment) state.maxGradNorm = Math.max(state.maxGradNorm, r.gradNorm);
      const ev = runEvaluation({ model: run.model, classNames, minSize: b.size, maxSize: b.size }, data.val,
        { batch: 4, scoreThreshold: 0.05, maxDetections: 100, quiet: true });
      run.model.dispose();
      last = [ev.result.stats[0], ev.result.stats[1], ev.result.stats[2]];
      const loss = segment.length > 0 ? segment.reduce((a, r) => a + r.loss, 0) / segment.length : NaN;
      state.curve.push({ iteration: stopAt, ap: last[0], ap50: last[1], loss });
      at = stopAt;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!/the loss is/.test(msg)) throw e;
      diverged = msg;
    }
    state.seconds += (Date.now() - t0) / 1000;
    writeFileAtomic(curveFile, JSON.stringify(state));
  }
  const result: CurveResult = { key, spec: s, ap: diverged ? 0 : last[0], ap50: diverged ? 0 : last[1], ap75: diverged ? 0 : last[2], ...state, ...(diverged ? { diverged } : {}) };
  writeFileAtomic(done, JSON.stringify(result, null, 1));
  return result;
}

// ---- tables and pictures --------------------------------------------------------------------

export function seedsOf(results: Record<string, CurveResult>, s: RunSpec, seeds: number): CurveResult[] {
  const out: CurveResult[] = [];
  for (let k = 1; k <= seeds; k++) {
    const r = results[runKey({ ...s, seed: k })];
    if (r) out.push(r);
  }
  return out;
}

/** One line per row: mean ± sample std over the seeds that finished (diverged runs named), the paper's AP. */
export function tablesMarkdown(results: Record<string, CurveResult>, seeds: number): string {
  const lines: string[] = [];
  const titles = { '1a': 'Table 1a: α-balanced CE (γ = 0)', '1b': 'Table 1b: FL with the paper\'s α per γ', prior: '§5.1: standard CE without the prior, no clipping, no recoveries' };
  for (const table of ['1a', '1b', 'prior'] as const) {
    lines.push(`**${titles[table]}**`, '', '| setting | seeds | AP | AP50 | AP75 | AP at ½ / ¾ of the run | recoveries | max ‖g‖ | paper AP |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows().filter((x) => x.table === table)) {
      const xs = seedsOf(results, r.spec, table === 'prior' ? 1 : seeds);
      if (xs.length === 0) {
        lines.push(`| ${r.label} | 0 | (not run) | | | | | | ${r.paper} |`);
        continue;
      }
      const ok = xs.filter((x) => !x.diverged);
      const ms = (f: (x: CurveResult) => number): string => (ok.length === 0 ? '—' : ok.length === 1 ? pct(f(ok[0])) : `${pct(mean(ok.map(f)))} ± ${pct(std(ok.map(f)))}`);
      const at = (frac: number): string => {
        if (ok.length === 0) return '—';
        const v = ok.map((x) => {
          const want = frac * x.curve[x.curve.length - 1].iteration;
          const p = x.curve.find((c) => c.iteration >= want - 1e-9) ?? x.curve[x.curve.length - 1];
          return p.ap;
        });
        return pct(mean(v));
      };
      const div = xs.length - ok.length;
      lines.push(`| ${r.label} | ${xs.length}${div ? ` (${div} diverged: ${xs.filter((x) => x.diverged).map((x) => x.diverged).join('; ')})` : ''} | ${ms((x) => x.ap)} | ${ms((x) => x.ap50)} | ${ms((x) => x.ap75)} | ${at(0.5)} / ${at(0.75)} | ${xs.reduce((a, x) => a + x.recoveries, 0)} | ${Math.max(...xs.map((x) => x.maxGradNorm)).toPrecision(3)} | ${r.paper} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** AP on the held-out images against iterations, every run of the given rows (one colour per row). */
export function curvesSvg(results: Record<string, CurveResult>, picked: Row[], seeds: number, title: string): string {
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  const series = picked.flatMap((r, i) => seedsOf(results, r.spec, seeds).filter((x) => !x.diverged).map((x) => ({
    name: `${r.label}, seed ${x.spec.seed}`, color: colors[i % colors.length], points: x.curve.map((c) => [c.iteration, 100 * c.ap] as [number, number]),
  })));
  return lineChartSvg({ title, xLabel: 'iteration', yLabel: 'AP on the held-out images (%)', series, legend: 'top-left' });
}

// ---- the command ----------------------------------------------------------------------------

interface ResultsFile {
  budget: CurveBudget;
  seeds: number;
  foreground?: ReturnType<typeof foregroundRatio>;
  runs: Record<string, CurveResult>;
  figure4?: { model: string; positives: number; negatives: number; cdfs: LossCdf[] };
  finished?: boolean;
}

function runInChild(out: string, quick: boolean, flags: Flags, s: RunSpec): Promise<CurveResult> {
  const args = ['--out', out, '--worker', JSON.stringify(s), ...(quick ? ['--quick'] : [])];
  for (const f of ['iterations', 'eval-every', 'class-outputs']) if (flags.has(f)) args.push(`--${f}`, String(flags.int(f)));
  if (flags.has('warmup-factor')) args.push('--warmup-factor', String(flags.number('warmup-factor')));
  if (flags.has('normalizer')) args.push('--normalizer', flags.string('normalizer'));
  return childRun<CurveResult>(args, path.join(out, 'runs', runKey(s), 'result.json'), runKey(s));
}

function line(r: CurveResult): string {
  const what = r.diverged ? `diverged (${r.diverged})` : `AP ${pct(r.ap)} AP50 ${pct(r.ap50)} AP75 ${pct(r.ap75)}; AP along the run ${r.curve.map((c) => pct(c.ap)).join(' ')}`;
  return `  ${r.key}: ${what}; ${r.recoveries} recoveries, max |g| ${r.maxGradNorm.toPrecision(3)} (${(r.seconds / 60).toFixed(1)} min)`;
}

export async function focalVsCeCommand(flags: Flags): Promise<number> {
  const out = flags.string('out');
  const quick = flags.boolean('quick');
  const b = curveBudget(quick, flags);
  if (flags.has('worker')) {
    const r = trainWithCurve(out, b, loadData(out), JSON.parse(flags.string('worker')) as RunSpec);  // the parent padded the data
    console.log(line(r));
    return 0;
  }
  const seeds = flags.int('seeds');
  const firstSeed = flags.int('first-seed');
  if (firstSeed > seeds) throw new RangeError(`--first-seed ${firstSeed} is above --seeds ${seeds}: no seed to run`);
  const jobs = flags.int('jobs');
  const ids = parseRows(flags.string('rows'));
  const t0 = Date.now();
  fs.mkdirSync(out, { recursive: true });
  const data = dataOf(out, b);
  const resultsFile = path.join(out, 'results.json');
  const res = openResults<ResultsFile>(resultsFile, { budget: b, seeds, runs: {} });
  const save = (): void => {
    writeFileAtomic(resultsFile, JSON.stringify(res, null, 1));
    writeFileAtomic(path.join(out, 'tables.md'), tablesMarkdown(res.runs, seeds));
    const rs = rows();
    writeFileAtomic(path.join(out, 'curves.svg'), curvesSvg(res.runs, [rowById('ce.75'), rowById('fl2')], seeds, 'CE (α = .75) vs FL (γ = 2, α = .25): AP along the schedule'));
    writeFileAtomic(path.join(out, 'curves-all.svg'), curvesSvg(res.runs, rs.filter((r) => r.table !== 'prior'), 1, 'Every row of Tables 1a/1b, seed 1: AP along the schedule'));
  };
  res.foreground = foregroundRatio(b, data);
  const f = res.foreground;
  console.log(`focal-vs-ce: ${b.trainImages} training / ${b.valImages} held-out ${b.size}px images (${b.minObject}-${b.maxObject} px objects, up to ${b.objects} per image), ` +
    `${b.preset}${b.classOutputs ? ` with ${b.classOutputs} class outputs` : ''}, ${b.iterations} iterations × ${b.batch}, lr ${b.lr}` +
    `${b.warmupFactor !== undefined ? ` (warm-up from ${b.warmupFactor} of it)` : ''}${b.normalizer !== undefined ? `, losses ÷ ${b.normalizer === 'batch' ? 'the batch\'s foreground count' : 'its moving average'}` : ''}, no clipping, evaluated every ${b.evalEvery}; ${seeds} seed(s), ${jobs} job(s); ` +
    `fg:bg = 1:${(f.background / Math.max(1, f.foreground)).toFixed(0)} (${(f.foreground / f.images).toFixed(1)} foreground of ${f.anchorsPerImage} anchors per image); ${out}`);
  save();

  const todo = queue(seeds, ids, firstSeed).filter((s) => !res.runs[runKey(s)]);
  let failure: unknown;
  if (jobs === 1) {
    for (const s of todo) {
      const r = trainWithCurve(out, b, data, s);
      res.runs[r.key] = r;
      console.log(line(r));
      save();
    }
  } else {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && failure === undefined) {
        const s = todo[next++];
        try {
          const r = await runInChild(out, quick, flags, s);
          res.runs[r.key] = r;
          save();
        } catch (e) {
          failure = e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  }
  if (failure !== undefined) throw failure;
  console.log(`\n${tablesMarkdown(res.runs, seeds)}`);

  const fl = { ...rowById('fl2').spec, seed: firstSeed };  // Figure 4 from the first seed this out dir ran
  if (!res.runs[runKey(fl)]) {
    res.finished = true;
    save();
    return 0;
  }
  const fig = figure4(out, b, data, fl, quick ? 4 : 50);
  res.figure4 = { model: runKey(fl), positives: fig.positives, negatives: fig.negatives, cdfs: fig.cdfs };
  writeFileAtomic(path.join(out, 'figure4-positives.svg'), fig.svgs[0]);
  writeFileAtomic(path.join(out, 'figure4-negatives.svg'), fig.svgs[1]);
  res.finished = true;
  save();
  console.log(`focal-vs-ce: ${Object.keys(res.runs).length} runs; ${resultsFile}, ${path.join(out, 'tables.md')}, ${path.join(out, 'curves.svg')}, figure4-*.svg; ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  return 0;
}

// Run as a script (not when a test imports the helpers above).
if (require.main === module) runAsScript(FOCAL_VS_CE, focalVsCeCommand);
