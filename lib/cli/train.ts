// `retinanet train`: a RetinaNet preset trained on a COCO-format dataset, with progress, the loss
// as CSV + SVG, atomic checkpoints and exact resume (the batch order and the flips are functions
// of the seed and the iteration, so a resumed run computes what an uninterrupted one would).
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from '../data/batch';
import { CocoDataset } from '../data/coco';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint';
import { createRetinaNet, PRESETS, RetinaNet, RetinaNetConfig } from '../model/retinanet';
import { Recovery, Trainer, TrainerOptions } from '../model/trainer';
import { HealthReport, trainingHealth } from '../model/health';
import { initFromWeights, loadBackboneWeights } from '../model/weights';
import { prng } from '../util/prng';
import { CommandSpec, Flags, UsageError } from './args';
import { DATASET_FLAGS, datasetPaths, ImageCache, openDataset } from './dataset';
import { LossLog, LossRow } from './loss-log';
import { Progress } from './progress';

export const CHECKPOINT = 'checkpoint.safetensors';

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Trains a RetinaNet on a COCO-format dataset; writes OUT/checkpoint.safetensors, OUT/loss.csv and OUT/loss.svg.',
  flags: [
    ...DATASET_FLAGS,
    { name: 'out', type: 'string', value: 'DIR', default: 'runs/train', help: 'output folder' },
    { name: 'preset', type: 'string', choices: Object.keys(PRESETS), default: 'retinanet-r18-small', help: 'model preset (the default trains from scratch on a CPU; retinanet-r18-tiny takes 0.6-0.7x the time and is weaker: docs/training.md)' },
    { name: 'iterations', type: 'int', min: 1, default: 1000, help: 'iterations of the whole run (the schedule divides the rate by 10 at 2/3 and 8/9)' },
    { name: 'batch', type: 'int', min: 1, default: 4, help: 'images per iteration' },
    { name: 'lr', type: 'number', min: 0, help: 'base learning rate (default: linear in the batch, 0.08 x batch / 16 for the GroupNorm presets trained from scratch, the paper\'s 0.01 x batch / 16 with frozen BN; SGD, momentum 0.9; docs/training.md)' },
    { name: 'warmup', type: 'int', min: 0, help: 'warm-up iterations (default min(1000, iterations/10), linear from 0.001 x lr)' },
    { name: 'clip-grad-norm', type: 'number', min: 0, default: 0, help: 'scale gradients down to this global L2 norm (0: off)' },
    { name: 'min-size', type: 'int', min: 8, default: 800, help: 'shorter image side after resizing (the paper: 800; 600 for speed)' },
    { name: 'max-size', type: 'int', min: 8, default: 1333, help: 'cap on the longer side' },
    { name: 'flip', type: 'boolean', default: true, help: 'random horizontal flips' },
    { name: 'checkpoint-every', type: 'int', min: 1, default: 100, help: 'iterations between checkpoints' },
    { name: 'backbone-weights', type: 'string', value: 'FILE', help: 'start the ResNet body from an ImageNet classifier\'s weights (torchvision resnet18/34/50/101 .pth or safetensors); the FPN and heads start as the paper says' },
    { name: 'init-from', type: 'string', value: 'FILE', help: 'start from a detector\'s weights (checkpoint, safetensors or .pth); with another class count the class output starts at the prior' },
    { name: 'trainable-backbone-layers', type: 'int', min: 0, max: 5, help: 'ResNet stages that train, from the top (default 3 with --backbone-weights or --init-from, as torchvision when fine-tuning; else 5)' },
    { name: 'resume', type: 'boolean', default: false, help: 'continue the run in OUT (its settings and length; --iterations, if given, must match)' },
    { name: 'overwrite', type: 'boolean', default: false, help: 'start over in an OUT that already holds a run (default: refuse)' },
    { name: 'stop-at', type: 'int', min: 1, help: 'stop after this iteration (with a checkpoint), as if interrupted' },
    { name: 'seed', type: 'int', min: 0, default: 1, help: 'seed of the weights, batch order and flips' },
    { name: 'quiet', type: 'boolean', default: false, help: 'no progress output' },
  ],
};

export interface TrainRunOptions {
  dataset: CocoDataset;
  out: string;
  preset: string;
  /** Iterations of the whole run; needed for a new run. On resume, the checkpoint's run's unless given (then they must agree). */
  iterations?: number;
  batch: number;
  /** Base learning rate; default: the Trainer's (linear in the batch: docs/training.md). */
  learningRate?: number;
  warmup?: number;
  clipGradNorm?: number;
  /** Further Trainer settings (they override the ones above). */
  trainer?: Omit<TrainerOptions, 'iterations'>;
  /** Model settings over the preset's. */
  model?: Omit<RetinaNetConfig, 'numClasses'>;
  minSize: number;
  maxSize: number;
  flip: boolean;
  checkpointEvery: number;
  resume: boolean;
  /** ImageNet classifier weights for the backbone body (new runs only). */
  backboneWeights?: string;
  /** A detector's weights to start from (new runs only; the class output re-initialised if the class count differs). */
  initFrom?: string;
  /** Start over in an `out` that already holds a run's checkpoint (otherwise a RangeError: --resume or --overwrite). */
  overwrite?: boolean;
  stopAt?: number;
  seed: number;
  quiet: boolean;
  /** Where the dataset came from (recorded in the checkpoint). */
  source?: string;
}

export interface TrainRunResult {
  model: RetinaNet;
  trainer: Trainer;
  /** Iterations run by this call (not counting those run again after a recovery). */
  steps: number;
  /** Recoveries from divergence during this call. */
  recoveries: Recovery[];
  /** The loss log's rows (this run's and, when resumed, the earlier ones). */
  log: readonly LossRow[];
  /** Whether the model learned (judged when the run reached its last iteration). */
  health?: HealthReport;
  seconds: number;
  lastLoss: number;
  checkpoint: string;
}

/** Images of iteration `it`: epochs are seeded shuffles, walked `batch` at a time. */
export function batchIndices(n: number, batch: number, seed: number, it: number): number[] {
  const out: number[] = [];
  let epochOrder: number[] = [];
  let epoch = -1;
  for (let k = it * batch; k < (it + 1) * batch; k++) {
    const e = Math.floor(k / n);
    if (e !== epoch) {
      epoch = e;
      const r = prng((seed * 0x9e3779b1 + e * 7919) >>> 0);
      epochOrder = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [epochOrder[i], epochOrder[j]] = [epochOrder[j], epochOrder[i]];
      }
    }
    out.push(epochOrder[k % n]);
  }
  return out;
}

export function runTraining(options: TrainRunOptions): TrainRunResult {
  let o = options;
  const { dataset } = o;
  if (dataset.images.length === 0) throw new RangeError('the dataset has no image with boxes to train on');
  fs.mkdirSync(o.out, { recursive: true });
  const checkpoint = path.join(o.out, CHECKPOINT);
  const classNames = dataset.categories.map((c) => c.name);
  if (!o.resume && !o.overwrite && fs.existsSync(checkpoint)) {
    throw new RangeError(`${o.out} already holds a run (${CHECKPOINT}): --resume continues it, --overwrite starts over, or choose another --out`);
  }
  let model: RetinaNet;
  let trainer: Trainer;
  if (o.resume && fs.existsSync(checkpoint)) {
    const ck = loadCheckpoint(checkpoint);
    if (!ck.trainer) {
      ck.model.dispose();
      throw new RangeError(`${checkpoint} holds weights only (no trainer state): cannot resume`);
    }
    if (ck.model.config.numClasses !== classNames.length) {
      ck.trainer.dispose();
      ck.model.dispose();
      throw new RangeError(`${checkpoint} has ${ck.model.config.numClasses} classes, the dataset ${classNames.length}`);
    }
    const { iteration, options: { iterations: total } } = ck.trainer;
    // The schedule's steps (2/3 and 8/9 of the run) and the warm-up depend on the run's length: it stays as started.
    const refusal = iteration >= total
      ? `the run in ${o.out} is finished (${iteration}/${total} iterations): nothing to resume; start a new one with --overwrite or another --out`
      : o.iterations !== undefined && o.iterations !== total
        ? `the run in ${o.out} is ${total} iterations long (its schedule depends on it): --resume without --iterations finishes it; a longer run is a new one (--overwrite or another --out)`
        : undefined;
    if (refusal) {
      ck.trainer.dispose();
      ck.model.dispose();
      throw new RangeError(refusal);
    }
    model = ck.model;
    trainer = ck.trainer;
    // The run goes on with the settings it started with (batch order and flips depend on them).
    const e = ck.extra as Partial<TrainRunOptions>;
    o = { ...o, preset: e.preset ?? o.preset, batch: e.batch ?? o.batch, seed: e.seed ?? o.seed, flip: e.flip ?? o.flip,
      minSize: e.minSize ?? o.minSize, maxSize: e.maxSize ?? o.maxSize };
  } else {
    if (o.resume && !o.quiet) console.error(`no checkpoint at ${checkpoint}: starting a new run`);
    if (o.iterations === undefined) throw new RangeError('iterations: needed for a new run');
    // Fine-tuning freezes conv1 and layer1 unless told otherwise (torchvision's trainable_backbone_layers=3).
    const pretrained = o.backboneWeights !== undefined || o.initFrom !== undefined;
    model = createRetinaNet({ preset: o.preset, ...(pretrained ? { trainableBackboneLayers: 3 } : {}), ...(o.model ?? {}), numClasses: classNames.length, seed: o.seed });
    try {
      if (o.backboneWeights !== undefined) loadBackboneWeights(model, o.backboneWeights);
      if (o.initFrom !== undefined) {
        const { classOutputKept } = initFromWeights(model, o.initFrom);
        if (classOutputKept && !o.quiet) console.error(`init-from ${o.initFrom}: another class count, so the class output starts at the prior`);
      }
    } catch (e) {
      model.dispose();
      throw e;
    }
    trainer = new Trainer(model, {
      iterations: o.iterations, batchSize: o.batch, learningRate: o.learningRate, clipGradNorm: o.clipGradNorm,
      warmupIterations: o.warmup, ...(o.trainer ?? {}),
    });
  }
  const total = trainer.options.iterations;
  const stop = Math.min(total, o.stopAt ?? total);
  const first = trainer.iteration;
  const log = new LossLog(path.join(o.out, 'loss.csv'), path.join(o.out, 'loss.svg'), first);
  const extra = {
    classNames, categoryIds: dataset.categories.map((c) => c.id), preset: o.preset, minSize: o.minSize, maxSize: o.maxSize, batch: o.batch, flip: o.flip, seed: o.seed,
    source: o.source ?? null, backboneWeights: o.backboneWeights ?? null, initFrom: o.initFrom ?? null,
  };
  const cache = new ImageCache();
  const progress = new Progress('train', total, { quiet: o.quiet, start: first });
  const t0 = Date.now();
  let lastLoss = NaN;
  let steps = 0;
  const recoveries: Recovery[] = [];
  // Follows the trainer's iteration: a recovery from divergence moves it back.
  while (trainer.iteration < stop) {
    const it = trainer.iteration;
    const items = batchIndices(dataset.images.length, o.batch, o.seed, it).map((i) => {
      const im = dataset.images[i];
      return { image: cache.entry(im), boxes: im.boxes, labels: im.labels };
    });
    const b = makeBatch(items, {
      minSize: o.minSize, maxSize: o.maxSize, flipProbability: o.flip ? 0.5 : 0, rng: prng((o.seed * 1000003 + it) >>> 0),
    });
    const images = tf.tensor4d(b.images, b.shape);
    const ts = Date.now();
    let r;
    try {
      r = trainer.step(images, b.boxes, b.labels);
    } catch (e) {
      log.flush();  // the rows up to the divergence stay readable
      throw e;
    } finally {
      images.dispose();
    }
    if (r.recovered) {
      const v = r.recovered;
      recoveries.push(v);
      const note = `iteration ${v.iteration} diverged (${v.reason}): back to iteration ${v.resumedAt}'s weights, learning rate x${v.lrScale}`;
      log.rewind(v.resumedAt, note);
      console.error(`train: ${note}`);  // a warning, not progress: printed under --quiet too
      continue;
    }
    steps++;
    lastLoss = r.loss;
    log.add({ ...r, seconds: (Date.now() - ts) / 1000 });
    progress.update(it + 1, { loss: r.loss.toFixed(4), cls: r.classification.toFixed(4), box: r.box.toFixed(4), '|grad|': r.gradNorm.toPrecision(3), lr: r.learningRate.toPrecision(3) });
    if ((it + 1) % o.checkpointEvery === 0 || it + 1 === stop) {
      saveCheckpoint(checkpoint, model, trainer, extra);
      log.flush();
    }
  }
  if (first >= stop) log.flush();
  const seconds = (Date.now() - t0) / 1000;
  // A finished run is judged on its whole loss log and a few training images.
  let health: HealthReport | undefined;
  if (trainer.iteration >= total) {
    const sample = dataset.images.slice(0, 8).map((im) => ({ image: cache.entry(im) }));
    const b = makeBatch(sample, { minSize: o.minSize, maxSize: o.maxSize });
    const images = tf.tensor4d(b.images, b.shape);
    try {
      // Per foreground anchor (the batch's own count), so that the moving-average normalizer's
      // drift does not read as learning: at the prior this is the prior's loss.
      health = trainingHealth(model, log.entries.map((r) => (r.classification * r.normalizer) / Math.max(1, r.numForeground)), images, b.sizes);
    } finally {
      images.dispose();
    }
  }
  return { model, trainer, steps, seconds, lastLoss, checkpoint, recoveries, log: log.entries, health };
}

export function trainCommand(flags: Flags): number {
  const paths = datasetPaths('train', flags);
  const dataset = openDataset(paths, { skipEmpty: true });
  if (flags.int('max-size') < flags.int('min-size')) throw new UsageError('train', '--max-size must be >= --min-size');
  const r = runTraining({
    dataset, source: paths.annotations,
    out: flags.string('out'), preset: flags.string('preset'), batch: flags.int('batch'), overwrite: flags.boolean('overwrite'),
    // On --resume the run's own length unless given (a different one is refused).
    iterations: flags.given('iterations') || !flags.boolean('resume') ? flags.int('iterations') : undefined,
    learningRate: flags.has('lr') ? flags.number('lr') : undefined, warmup: flags.has('warmup') ? flags.int('warmup') : undefined,
    clipGradNorm: flags.number('clip-grad-norm'),
    backboneWeights: flags.optionalString('backbone-weights'), initFrom: flags.optionalString('init-from'),
    model: flags.has('trainable-backbone-layers') ? { trainableBackboneLayers: flags.int('trainable-backbone-layers') } : undefined,
    minSize: flags.int('min-size'), maxSize: flags.int('max-size'), flip: flags.boolean('flip'),
    checkpointEvery: flags.int('checkpoint-every'), resume: flags.boolean('resume'),
    stopAt: flags.has('stop-at') ? flags.int('stop-at') : undefined, seed: flags.int('seed'), quiet: flags.boolean('quiet'),
  });
  const recovered = r.recoveries.length > 0 ? `, ${r.recoveries.length} recovery(ies) from divergence (learning rate now x${r.trainer.lrScale})` : '';
  console.log(`trained ${r.steps} iterations in ${r.seconds.toFixed(1)} s (now at ${r.trainer.iteration}/${r.trainer.options.iterations}), last loss ${r.lastLoss.toFixed(4)}${recovered}; checkpoint ${r.checkpoint}`);
  r.trainer.dispose();
  r.model.dispose();
  if (r.health && !r.health.ok) {
    console.error(`retinanet train: the run collapsed: ${r.health.reasons.join('; ')}. The checkpoint is kept for inspection; see ${path.join(flags.string('out'), 'loss.svg')}, and try a lower --lr or more iterations (docs/training.md)`);
    return 1;
  }
  return 0;
}
