// `npm run ablations` (node dist-experiments/ablations.js): the paper's ablations (Tables 1a, 1b, 1c, 3, the
// prior of §5.1, Figure 4) at a CPU-sized scale. One synthetic dataset of dense small objects is
// made once; every run trains the same preset with the same budget and seed, changing only what
// its table varies, and is evaluated (COCO AP) on the held-out images. Results go to
// OUT/results.json after every run (a cut-off run keeps what finished; a rerun skips finished
// runs and resumes a cut-off one from its checkpoint), tables to OUT/tables.md.
// A research harness, not part of the package: it lives outside lib/ and uses the built package
// (dist/) as a user's script would, compiled by experiments/tsconfig.json into dist-experiments/.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '../dist/accel';
import * as ops from '../dist/ops';
import { writeFileAtomic } from '../dist/data/atomic-write';
import { makeBatch } from '../dist/data/batch';
import { CocoDataset, loadCocoDataset } from '../dist/data/coco';
import { makeShapesDataset } from '../dist/data/synthetic';
import { loadCheckpoint, saveCheckpoint } from '../dist/model/checkpoint';
import { createRetinaNet, RetinaNetConfig } from '../dist/model/retinanet';
import { Trainer, TrainerOptions } from '../dist/model/trainer';
import { lineChartSvg } from '../dist/plot/line-chart';
import { CommandSpec, Flags, UsageError } from '../dist/cli/args';
import { mean, openResults, pct, runAsScript, runInChild as childRun, std } from './harness';
import { ImageCache } from '../dist/cli/dataset';
import { runEvaluation } from '../dist/cli/eval';
import { CHECKPOINT, runTraining } from '../dist/cli/train';

export const ABLATIONS: CommandSpec = {
  name: 'ablations',
  summary: "The paper's ablations at small scale (Tables 1a/1b/1c/3, the prior, Figure 4): trains and evaluates each setting; OUT/results.json, OUT/tables.md, OUT/figure4.svg.",
  flags: [
    { name: 'out', type: 'string', value: 'DIR', default: 'runs/ablations', help: 'output folder' },
    { name: 'quick', type: 'boolean', default: false, help: 'a tiny version (64 px, a few iterations) that checks the whole pipeline' },
    { name: 'tables', type: 'string', value: 'LIST', default: 'all', help: `comma-separated subset of ${'1a,1b,prior,1c,3,seeds,fig4'} (or all)` },
    { name: 'seeds', type: 'int', min: 1, default: 3, help: 'seeds of the key comparison (CE best α vs FL γ = 2)' },
    { name: 'jobs', type: 'int', min: 1, default: 2, help: 'runs in parallel (child processes; 1: in this process)' },
    { name: 'iterations', type: 'int', min: 1, help: 'training iterations per run (default 300; --quick 3)' },
    { name: 'size', type: 'int', min: 64, help: 'image side (default 160; --quick 64)' },
    { name: 'train-images', type: 'int', min: 1, help: 'training images (default 300; --quick 8)' },
    { name: 'val-images', type: 'int', min: 1, help: 'held-out images (default 100; --quick 4)' },
    { name: 'worker', type: 'string', value: 'KEY', help: 'internal: run one setting (used by --jobs > 1)' },
  ],
};

export const TABLE_IDS = ['1a', '1b', 'prior', '1c', '3', 'seeds', 'fig4'] as const;

/** What a run varies; everything else is the budget's. */
export interface RunSpec {
  loss: 'focal' | 'focal-star';
  alpha: number | null;
  gamma: number;
  beta?: number;
  prior: number;
  scales: 1 | 3;
  ratios: 1 | 3;
  seed: number;
}

export interface Budget {
  preset: string;
  size: number;
  classes: number;
  minObject: number;
  maxObject: number;
  objects: number;
  trainImages: number;
  valImages: number;
  iterations: number;
  batch: number;
  lr: number;
  clipGradNorm: number;
  dataSeed: number;
}

export interface RunResult {
  key: string;
  spec: RunSpec;
  ap: number;
  ap50: number;
  ap75: number;
  lastLoss: number;
  seconds: number;
  /** Set when training stopped on a non-finite loss. */
  diverged?: string;
}

type Paper = [number, number, number] | string;
interface Row { label: string; spec: RunSpec; paper: Paper }
interface Table { id: string; title: string; head: string; rows: Row[] }

const P = (ap: number, ap50: number, ap75: number): Paper => [ap, ap50, ap75];

export function budgetOf(quick: boolean, flags?: Flags): Budget {
  const get = (name: string, full: number, small: number): number => (flags?.has(name) ? flags.int(name) : quick ? small : full);
  return {
    preset: 'retinanet-r18-tiny',
    size: get('size', 160, 64),
    classes: 3,
    minObject: quick ? 8 : 12,
    maxObject: 32,
    objects: quick ? 3 : 4,
    trainImages: get('train-images', 300, 8),
    valImages: get('val-images', 100, 4),
    iterations: get('iterations', 300, 3),
    batch: quick ? 2 : 4,
    lr: 0.02,
    clipGradNorm: 5,
    dataSeed: 1,
  };
}

const fmt = (x: number | null | undefined): string => (x === null || x === undefined ? 'none' : String(x));

export function runKey(s: RunSpec): string {
  const loss = s.loss === 'focal-star' ? `flstar-b${s.beta ?? 0}` : s.gamma === 0 ? 'ce' : 'fl';
  return `${loss}-g${s.gamma}-a${fmt(s.alpha)}-p${s.prior}-sc${s.scales}-ar${s.ratios}-s${s.seed}`;
}

/** A run of the paper's default setting (FL γ = 2, α = .25, π = .01, 3 × 3 anchors, seed 1) with `o` changed. */
export const base = (o: Partial<RunSpec>): RunSpec => ({ loss: 'focal', alpha: 0.25, gamma: 2, prior: 0.01, scales: 3, ratios: 3, seed: 1, ...o });
const ce = (alpha: number | null, o: Partial<RunSpec> = {}): RunSpec => base({ gamma: 0, alpha, ...o });

/** The tables; `bestAlpha` is Table 1a's best α (the CE of Table 3 and of the seed comparison). */
export function tables(bestAlpha: number, seeds: number): Table[] {
  const fl2 = base({});
  const seedRows = (name: string, s: RunSpec, paper: Paper): Row[] =>
    Array.from({ length: seeds }, (_, i) => ({ label: `${name}, seed ${i + 1}`, spec: { ...s, seed: i + 1 }, paper: i === 0 ? paper : '' }));
  return [
    { id: '1a', title: 'Table 1a: α-balanced CE (γ = 0)', head: 'α', rows: [
      { label: '.25', spec: ce(0.25), paper: P(10.8, 16.0, 11.7) },
      { label: '.50', spec: ce(0.5), paper: P(30.2, 46.7, 32.8) },
      { label: '.75', spec: ce(0.75), paper: P(31.1, 49.4, 33.0) },
      { label: '.90', spec: ce(0.9), paper: P(30.8, 49.7, 32.3) },
    ] },
    { id: '1b', title: 'Table 1b: FL, γ with the paper\'s α', head: 'γ, α', rows: [
      { label: '0, .75', spec: ce(0.75), paper: P(31.1, 49.4, 33.0) },
      { label: '0.5, .50', spec: base({ gamma: 0.5, alpha: 0.5 }), paper: P(32.9, 51.7, 35.2) },
      { label: '1, .25', spec: base({ gamma: 1, alpha: 0.25 }), paper: P(33.7, 52.0, 36.2) },
      { label: '2, .25', spec: fl2, paper: P(34.0, 52.5, 36.5) },
      { label: '5, .25', spec: base({ gamma: 5, alpha: 0.25 }), paper: P(32.2, 49.6, 34.8) },
    ] },
    { id: 'prior', title: '§5.1: CE with and without the prior initialization (α = .5, i.e. ½ × plain CE)', head: 'class-output bias', rows: [
      { label: '0 (π = .5)', spec: ce(0.5, { prior: 0.5 }), paper: 'diverges' },
      { label: '−log 99 (π = .01)', spec: ce(0.5), paper: P(30.2, 46.7, 32.8) },
    ] },
    { id: '1c', title: 'Table 1c: anchor scales × aspect ratios (FL γ = 2, α = .25)', head: '#sc, #ar', rows: [
      { label: '1, 1', spec: base({ scales: 1, ratios: 1 }), paper: P(30.3, 49.0, 31.8) },
      { label: '3, 1', spec: base({ scales: 3, ratios: 1 }), paper: P(31.8, 49.4, 33.7) },
      { label: '1, 3', spec: base({ scales: 1, ratios: 3 }), paper: P(32.4, 52.3, 33.9) },
      { label: '3, 3', spec: fl2, paper: P(34.0, 52.5, 36.5) },
    ] },
    { id: '3', title: 'Table 3: FL and FL* vs CE (α = .25 for FL and FL*)', head: 'loss, γ, β', rows: [
      { label: `CE (α = ${bestAlpha})`, spec: ce(bestAlpha), paper: P(31.1, 49.4, 33.0) },
      { label: 'FL, 2, —', spec: fl2, paper: P(34.0, 52.5, 36.5) },
      { label: 'FL*, 2, 1', spec: base({ loss: 'focal-star', gamma: 2, beta: 1 }), paper: P(33.8, 52.7, 36.3) },
      { label: 'FL*, 4, 0', spec: base({ loss: 'focal-star', gamma: 4, beta: 0 }), paper: P(33.9, 51.8, 36.4) },
    ] },
    { id: 'seeds', title: `Key comparison over ${seeds} seeds: CE (best α = ${bestAlpha}) vs FL (γ = 2, α = .25)`, head: 'loss, seed', rows: [
      ...seedRows(`CE α = ${bestAlpha}`, ce(bestAlpha), P(31.1, 49.4, 33.0)),
      ...seedRows('FL γ = 2', fl2, P(34.0, 52.5, 36.5)),
    ] },
  ];
}

export function modelConfig(s: RunSpec): Partial<RetinaNetConfig> {
  return {
    classificationLoss: s.loss, alpha: s.alpha, gamma: s.gamma, focalStarBeta: s.beta ?? 0, prior: s.prior, seed: s.seed,
    anchors: {
      scales: s.scales === 1 ? [1] : [1, 2 ** (1 / 3), 2 ** (2 / 3)],
      aspectRatios: s.ratios === 1 ? [1] : [0.5, 1, 2],
    },
  };
}

export interface Data { train: CocoDataset; val: CocoDataset; trainDir: string; valDir: string }

function datasetDirs(out: string): { trainDir: string; valDir: string } {
  return { trainDir: path.join(out, 'data', 'train'), valDir: path.join(out, 'data', 'val') };
}

export function makeData(out: string, b: Budget): Data {
  const { trainDir, valDir } = datasetDirs(out);
  const shapes = { size: b.size, classes: b.classes, minObject: b.minObject, maxObject: b.maxObject, maxObjectsPerImage: b.objects };
  const stamp = path.join(out, 'data', 'budget.json');
  const want = JSON.stringify(b);
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== want) {
    fs.rmSync(path.join(out, 'data'), { recursive: true, force: true });
    makeShapesDataset({ dir: trainDir, images: b.trainImages, seed: b.dataSeed, ...shapes });
    makeShapesDataset({ dir: valDir, images: b.valImages, seed: b.dataSeed + 1_000_003, ...shapes });
    writeFileAtomic(stamp, want);
  }
  return loadData(out);
}

export function loadData(out: string): Data {
  const { trainDir, valDir } = datasetDirs(out);
  return {
    trainDir, valDir,
    train: loadCocoDataset(path.join(trainDir, 'instances.json'), path.join(trainDir, 'images'), { skipEmpty: true }),
    val: loadCocoDataset(path.join(valDir, 'instances.json'), path.join(valDir, 'images')),
  };
}

/**
 * runTraining builds its model from a preset; a setting's model (loss, α, γ, prior, anchors)
 * enters as an iteration-0 checkpoint in `dir` that runTraining resumes from (what a fresh run
 * would compute). Nothing is written when the run already has a checkpoint.
 */
export function initialCheckpoint(dir: string, b: Budget, data: Data, spec: RunSpec, trainer: Omit<TrainerOptions, 'iterations'> = {}): void {
  const ckFile = path.join(dir, CHECKPOINT);
  if (fs.existsSync(ckFile)) return;
  fs.mkdirSync(dir, { recursive: true });
  const classNames = data.train.categories.map((c) => c.name);
  const model = createRetinaNet({ preset: b.preset, numClasses: classNames.length, ...modelConfig(spec) });
  const t = new Trainer(model, { iterations: b.iterations, learningRate: b.lr, clipGradNorm: b.clipGradNorm, ...trainer });
  saveCheckpoint(ckFile, model, t, {
    classNames, preset: b.preset, minSize: b.size, maxSize: b.size, batch: b.batch, flip: true, seed: spec.seed, source: data.trainDir,
  });
  t.dispose();
  model.dispose();
}

/** Trains and evaluates one setting in this process; resumes a cut-off run from its checkpoint. */
export function trainAndEvaluate(out: string, b: Budget, data: Data, spec: RunSpec): RunResult {
  const key = runKey(spec);
  const dir = path.join(out, 'runs', key);
  const done = path.join(dir, 'result.json');
  if (fs.existsSync(done)) return JSON.parse(fs.readFileSync(done, 'utf8')) as RunResult;
  fs.mkdirSync(dir, { recursive: true });
  const classNames = data.train.categories.map((c) => c.name);
  initialCheckpoint(dir, b, data, spec);
  const t0 = Date.now();
  let result: RunResult;
  try {
    const run = runTraining({
      dataset: data.train, source: data.trainDir, out: dir, preset: b.preset, iterations: b.iterations, batch: b.batch,
      learningRate: b.lr, clipGradNorm: b.clipGradNorm, minSize: b.size, maxSize: b.size, flip: true,
      checkpointEvery: Math.max(25, Math.ceil(b.iterations / 6)), resume: true, seed: spec.seed, quiet: true,
    });
    run.trainer.dispose();
    const ev = runEvaluation({ model: run.model, classNames, minSize: b.size, maxSize: b.size }, data.val,
      { batch: 4, scoreThreshold: 0.05, maxDetections: 100, quiet: true });
    run.model.dispose();
    const [ap, ap50, ap75] = ev.result.stats;
    result = { key, spec, ap, ap50, ap75, lastLoss: run.lastLoss, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!/the loss is/.test(msg)) throw e;
    result = { key, spec, ap: 0, ap50: 0, ap75: 0, lastLoss: NaN, seconds: (Date.now() - t0) / 1000, diverged: msg };
  }
  writeFileAtomic(done, JSON.stringify(result, null, 1));
  return result;
}

// ---- Figure 4 -------------------------------------------------------------------------------

export interface LossCdf { gamma: number; positives: [number, number][]; negatives: [number, number][] }

/**
 * Per anchor, the FL of the model's outputs summed over the classes (no α: α only rescales a
 * group), for positive (matched) and negative (background) anchors; each group's losses
 * normalized to sum to 1, sorted ascending, cumulated; sampled at `points` fractions.
 */
export function lossCdfs(logits: Float32Array, labels: Int32Array, k: number, gammas: number[], points = 200): LossCdf[] {
  const n = labels.length;
  return gammas.map((gamma) => {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l < -1) continue;
      let s = 0;
      for (let c = 0; c < k; c++) {
        const x = logits[i * k + c];
        const y = l === c ? 1 : 0;
        // log p_t = −softplus(∓x), computed stably.
        const z = y ? -x : x;
        const logPt = -(Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))));
        const pt = Math.exp(logPt);
        s += -((1 - pt) ** gamma) * logPt;
      }
      (l >= 0 ? pos : neg).push(s);
    }
    return { gamma, positives: cdf(pos, points), negatives: cdf(neg, points) };
  });
}

function cdf(values: number[], points: number): [number, number][] {
  if (values.length === 0) return [];
  const sorted = Float64Array.from(values).sort();
  const total = sorted.reduce((a, v) => a + v, 0) || 1;
  const cum = new Float64Array(sorted.length);
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) cum[i] = (acc += sorted[i]) / total;
  const out: [number, number][] = [[0, 0]];
  for (let j = 1; j <= points; j++) {
    const frac = j / points;
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(frac * sorted.length) - 1));
    out.push([frac, cum[idx]]);
  }
  return out;
}

export function figure4(out: string, b: Budget, data: Data, spec: RunSpec, images = 50): { cdfs: LossCdf[]; positives: number; negatives: number; svgs: string[] } {
  const ck = loadCheckpoint(path.join(out, 'runs', runKey(spec), CHECKPOINT));
  const model = ck.model;
  ck.trainer?.dispose();
  const k = model.config.numClasses;
  const cache = new ImageCache(0);
  const logitsAll: number[] = [];
  const labelsAll: number[] = [];
  try {
    const entries = data.val.images.slice(0, images);
    for (let i = 0; i < entries.length; i += 4) {
      const items = entries.slice(i, i + 4).map((e) => ({ image: cache.entry(e), boxes: e.boxes, labels: e.labels }));
      const batch = makeBatch(items, { minSize: b.size, maxSize: b.size, flipProbability: 0 });
      const [bn, h, w] = batch.shape;
      const { anchors, levels } = model.anchors(h, w);
      const t = ops.retinanetTargetsBatch(anchors, batch.boxes, batch.labels, { numClasses: k });
      const n = anchors.length / 4;
      const images4 = tf.tensor4d(batch.images, batch.shape);
      const heads = tf.tidy(() => model.forward(images4).map((x) => x.logits));
      images4.dispose();
      const perLevel = heads.map((x) => x.dataSync() as Float32Array);
      tf.dispose(heads);
      for (let im = 0; im < bn; im++) {
        levels.forEach((lv, li) => {
          for (let a = 0; a < lv.count; a++) {
            labelsAll.push(t.labels[im * n + lv.start + a]);
            for (let c = 0; c < k; c++) logitsAll.push(perLevel[li][(im * lv.count + a) * k + c]);
          }
        });
      }
    }
  } finally {
    model.dispose();
  }
  const labels = Int32Array.from(labelsAll);
  const cdfs = lossCdfs(Float32Array.from(logitsAll), labels, k, [0, 0.5, 1, 2]);
  const colors = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728'];
  const svgs = (['positives', 'negatives'] as const).map((group) => lineChartSvg({
    title: `Figure 4, ${group === 'positives' ? 'positive' : 'negative'} anchors: CDF of the normalized loss`,
    xLabel: `fraction of ${group === 'positives' ? 'foreground' : 'background'} anchors (sorted by loss)`,
    yLabel: 'cumulative normalized loss',
    series: cdfs.map((c, i) => ({ name: `γ = ${c.gamma}`, points: c[group], color: colors[i] })),
    xRange: [0, 1], yRange: [0, 1], legend: 'top-left',
  }));
  let positives = 0;
  let negatives = 0;
  for (const l of labels) {
    if (l >= 0) positives++;
    else if (l === -1) negatives++;
  }
  return { cdfs, positives, negatives, svgs };
}

// ---- the fg:bg ratio ------------------------------------------------------------------------

export function foregroundRatio(b: Budget, data: Data): { foreground: number; background: number; ignored: number; anchorsPerImage: number; images: number } {
  const model = createRetinaNet({ preset: b.preset, numClasses: data.train.categories.length });
  try {
    const { anchors } = model.anchors(Math.ceil(b.size / 32) * 32, Math.ceil(b.size / 32) * 32);
    let foreground = 0;
    let background = 0;
    let ignored = 0;
    for (const e of data.train.images) {
      const t = ops.retinanetTargetsBatch(anchors, [e.boxes], [e.labels], { numClasses: data.train.categories.length });
      for (const l of t.labels) {
        if (l >= 0) foreground++;
        else if (l === -1) background++;
        else ignored++;
      }
    }
    return { foreground, background, ignored, anchorsPerImage: anchors.length / 4, images: data.train.images.length };
  } finally {
    model.dispose();
  }
}

// ---- tables ---------------------------------------------------------------------------------


export function tableMarkdown(t: Table, results: Record<string, RunResult>): string {
  const lines = [`**${t.title}**`, '', `| ${t.head} | AP | AP50 | AP75 | paper AP | AP50 | AP75 | run |`, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'];
  for (const r of t.rows) {
    const x = results[runKey(r.spec)];
    const ours = !x ? ['(not run)', '', ''] : x.diverged ? ['diverged', '', ''] : [pct(x.ap), pct(x.ap50), pct(x.ap75)];
    const paper = typeof r.paper === 'string' ? [r.paper, '', ''] : r.paper.map((v) => v.toFixed(1));
    lines.push(`| ${r.label} | ${ours.join(' | ')} | ${paper.join(' | ')} | \`${runKey(r.spec)}\` |`);
  }
  if (t.id === 'seeds') {
    const groups = new Map<string, RunResult[]>();
    for (const r of t.rows) {
      const x = results[runKey(r.spec)];
      const g = r.label.split(',')[0];
      if (x && !x.diverged) groups.set(g, [...(groups.get(g) ?? []), x]);
    }
    lines.push('');
    for (const [g, xs] of groups) {
      const s = (f: (x: RunResult) => number): string => {
        const v = xs.map(f);
        return `${pct(mean(v))} ± ${pct(std(v))} (${pct(Math.min(...v))}–${pct(Math.max(...v))})`;
      };
      lines.push(`- ${g} over ${xs.length} seed(s): AP ${s((x) => x.ap)}, AP50 ${s((x) => x.ap50)}, AP75 ${s((x) => x.ap75)} (mean ± sample std (min–max))`);
    }
  }
  return lines.join('\n');
}

// ---- the command ----------------------------------------------------------------------------

interface ResultsFile {
  budget: Budget;
  seeds: number;
  bestAlpha?: number;
  foreground?: ReturnType<typeof foregroundRatio>;
  runs: Record<string, RunResult>;
  figure4?: { model: string; positives: number; negatives: number; cdfs: LossCdf[] };
  finished?: boolean;
}

function parseTables(s: string): Set<string> {
  if (s === 'all') return new Set(TABLE_IDS);
  const ids = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  for (const id of ids) if (!(TABLE_IDS as readonly string[]).includes(id)) throw new UsageError('ablations', `--tables: unknown table '${id}' (expected ${TABLE_IDS.join(', ')} or all)`);
  return new Set(ids);
}

function bestAlphaOf(results: Record<string, RunResult>, seeds: number): number | undefined {
  const rows = tables(0.75, seeds)[0].rows;
  const xs = rows.map((r) => results[runKey(r.spec)]);
  if (xs.some((x) => !x)) return undefined;
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i].ap > xs[best].ap) best = i;
  return rows[best].spec.alpha as number;
}

function runInChild(out: string, quick: boolean, flags: Flags, spec: RunSpec): Promise<RunResult> {
  const args = ['--out', out, '--worker', JSON.stringify(spec), ...(quick ? ['--quick'] : [])];
  for (const f of ['iterations', 'size', 'train-images', 'val-images']) if (flags.has(f)) args.push(`--${f}`, String(flags.int(f)));
  return childRun<RunResult>(args, path.join(out, 'runs', runKey(spec), 'result.json'), runKey(spec));
}

function line(r: RunResult): string {
  const what = r.diverged ? `diverged (${r.diverged})` : `AP ${pct(r.ap)} AP50 ${pct(r.ap50)} AP75 ${pct(r.ap75)}, last loss ${r.lastLoss.toFixed(3)}`;
  return `  ${r.key}: ${what} (${r.seconds.toFixed(0)} s)`;
}

export async function ablationsCommand(flags: Flags): Promise<number> {
  const out = flags.string('out');
  const quick = flags.boolean('quick');
  const b = budgetOf(quick, flags);
  if (flags.has('worker')) {
    const spec = JSON.parse(flags.string('worker')) as RunSpec;
    const r = trainAndEvaluate(out, b, loadData(out), spec);
    console.log(line(r));
    return 0;
  }
  const seeds = flags.int('seeds');
  const want = parseTables(flags.string('tables'));
  const jobs = flags.int('jobs');
  const t0 = Date.now();
  fs.mkdirSync(out, { recursive: true });
  const data = makeData(out, b);
  const resultsFile = path.join(out, 'results.json');
  const res = openResults<ResultsFile>(resultsFile, { budget: b, seeds, runs: {} });
  const save = (): void => writeFileAtomic(resultsFile, JSON.stringify(res, null, 1));
  res.foreground = foregroundRatio(b, data);
  const fgr = res.foreground;
  console.log(`ablations: ${b.trainImages} training / ${b.valImages} held-out ${b.size}px images (${b.minObject}–${b.maxObject} px objects, up to ${b.objects} per image), ` +
    `${b.preset}, ${b.iterations} iterations × ${b.batch}, lr ${b.lr}, gradients clipped at ${b.clipGradNorm}; ${jobs} job(s); fg:bg = 1:${(fgr.background / Math.max(1, fgr.foreground)).toFixed(0)} ` +
    `(${(fgr.foreground / fgr.images).toFixed(1)} foreground of ${fgr.anchorsPerImage} anchors per image); ${out}`);
  save();

  // The queue: each table's runs in order, deduplicated; Table 3 and the seeds need 1a's best α.
  const needsAlpha = (id: string): boolean => id === '3' || id === 'seeds';
  const order = TABLE_IDS.filter((id) => id !== 'fig4' && want.has(id));
  if (want.has('fig4') && !order.includes('1b') && !order.includes('1c') && !order.includes('3')) order.push('1b');
  const printed = new Set<string>();
  const markdown = (): string => {
    const alpha = res.bestAlpha ?? 0.75;
    return tables(alpha, seeds).filter((t) => want.has(t.id) || (t.id === '1b' && want.has('fig4') && order.includes('1b'))).map((t) => tableMarkdown(t, res.runs)).join('\n\n');
  };
  const tryPrint = (): void => {
    const alpha = res.bestAlpha ?? bestAlphaOf(res.runs, seeds);
    if (alpha !== undefined) res.bestAlpha = alpha;
    for (const t of tables(alpha ?? 0.75, seeds)) {
      if (!want.has(t.id) || printed.has(t.id) || (needsAlpha(t.id) && alpha === undefined && want.has('1a'))) continue;
      if (t.rows.every((r) => res.runs[runKey(r.spec)])) {
        printed.add(t.id);
        console.log(`\n${tableMarkdown(t, res.runs)}\n`);
      }
    }
    writeFileAtomic(path.join(out, 'tables.md'), markdown() + '\n');
  };

  const pending: string[] = [...order];
  const queued = new Set<string>();
  const queue: RunSpec[] = [];
  const fill = (): void => {
    while (pending.length > 0) {
      const id = pending[0];
      let alpha = res.bestAlpha ?? bestAlphaOf(res.runs, seeds);
      if (needsAlpha(id) && alpha === undefined) {
        if (want.has('1a')) return; // wait for Table 1a
        alpha = 0.75;
      }
      pending.shift();
      const t = tables(alpha ?? 0.75, seeds).find((x) => x.id === id) as Table;
      for (const r of t.rows) {
        const key = runKey(r.spec);
        if (!queued.has(key)) {
          queued.add(key);
          queue.push(r.spec);
        }
      }
    }
  };
  fill();
  let running = 0;
  let failure: unknown;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      fill();
      while (running < jobs && queue.length > 0 && failure === undefined) {
        const spec = queue.shift() as RunSpec;
        const key = runKey(spec);
        if (res.runs[key]) continue;
        if (jobs === 1) {
          const r = trainAndEvaluate(out, b, data, spec);
          res.runs[key] = r;
          console.log(line(r));
          save();
          tryPrint();
          fill();
          continue;
        }
        running++;
        runInChild(out, quick, flags, spec).then((r) => {
          res.runs[key] = r;
          save();
          tryPrint();
        }, (e: unknown) => {
          failure = e;
        }).finally(() => {
          running--;
          next();
        });
      }
      if (running === 0 && (queue.length === 0 || failure !== undefined)) resolve();
    };
    next();
  });
  if (failure !== undefined) throw failure;
  tryPrint();

  if (want.has('fig4')) {
    const spec = base({});
    const f = figure4(out, b, data, spec, quick ? 4 : 50);
    res.figure4 = { model: runKey(spec), positives: f.positives, negatives: f.negatives, cdfs: f.cdfs };
    writeFileAtomic(path.join(out, 'figure4-positives.svg'), f.svgs[0]);
    writeFileAtomic(path.join(out, 'figure4-negatives.svg'), f.svgs[1]);
    const at = (c: LossCdf, group: 'positives' | 'negatives', frac: number): string => {
      const pts = c[group];
      const p = pts.find(([x]) => x >= frac - 1e-9);
      return p ? (1 - p[1]).toFixed(3) : '-';
    };
    console.log(`Figure 4 (${runKey(spec)}, ${f.positives} positive / ${f.negatives} negative anchors): share of the loss in the hardest 20% / 10%:`);
    for (const c of f.cdfs) {
      console.log(`  γ = ${c.gamma}: positives ${at(c, 'positives', 0.8)} / ${at(c, 'positives', 0.9)}, negatives ${at(c, 'negatives', 0.8)} / ${at(c, 'negatives', 0.9)}`);
    }
    console.log(`  ${path.join(out, 'figure4-positives.svg')}, ${path.join(out, 'figure4-negatives.svg')}`);
  }
  res.finished = true;
  save();
  console.log(`ablations: ${Object.keys(res.runs).length} runs in ${out}/results.json, tables in ${path.join(out, 'tables.md')}; ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  return 0;
}


// Run as a script (not when a test imports the helpers above).
if (require.main === module) runAsScript(ABLATIONS, ablationsCommand);
