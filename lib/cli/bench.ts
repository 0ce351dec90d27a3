// `retinanet bench`: the native ops against pure tfjs, side by side in one run: the fused focal
// loss (forward + backward through tf.grad) against its pure-tfjs twin at the paper's size, and a
// whole training step of a preset with the native cpu kernels against tfjs's own kernels.
import * as tf from '@tensorflow/tfjs';
import { sigmoidFocalLossRef } from '../reference/focal-loss';
import { sigmoidFocalLoss } from '../tfjs/focal-loss';
import { useNativeCpuKernels, nativeCpuKernels } from '../accel/override';
import { createRetinaNet, PRESETS } from '../model/retinanet';
import { Trainer } from '../model/trainer';
import { prng } from '../util/prng';
import { CommandSpec, Flags } from './args';
import { Progress } from './progress';

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'Native vs tfjs in one run: the focal loss (fwd+bwd) vs its pure-tfjs twin, a training step with the native cpu kernels vs tfjs\'s own (npm run bench: the full suite).',
  flags: [
    { name: 'anchors', type: 'int', min: 1, default: 100000, help: 'anchors of the focal-loss case (the paper: ~100k per 600 px image)' },
    { name: 'classes', type: 'int', min: 1, default: 80, help: 'classes of the focal-loss case' },
    { name: 'preset', type: 'string', choices: Object.keys(PRESETS), default: 'retinanet-r18-tiny', help: 'model of the training-step case' },
    { name: 'size', type: 'int', min: 32, default: 256, help: 'image side of the training-step case' },
    { name: 'batch', type: 'int', min: 1, default: 2, help: 'images per training step' },
    { name: 'runs', type: 'int', min: 1, default: 3, help: 'timed runs of the tfjs cases (the median is shown; the native cases, milliseconds each, run at least 7 times)' },
    { name: 'json', type: 'boolean', default: false, help: 'print the cases as JSON (for scripts: the demo runs this command in a fresh process)' },
    { name: 'quiet', type: 'boolean', default: false, help: 'no progress output' },
  ],
};

export interface SpeedCase {
  name: string;
  nativeMs: number;
  tfjsMs: number;
  speedup: number;
}

/**
 * Median wall time of `runs` calls after one warm-up call (`warmup` false: none; for a case of
 * seconds per call measured once, where first-call costs are a small share and a warm-up would
 * double its time).
 */
export function medianMs(fn: () => void, runs: number, onRun?: () => void, warmup = true): number {
  if (warmup) {
    fn();
    onRun?.();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    onRun?.();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export interface BenchOptions {
  anchors: number;
  classes: number;
  preset: string;
  size: number;
  batch: number;
  runs: number;
  quiet?: boolean;
}

export function runBench(o: BenchOptions): SpeedCase[] {
  // Native cases take milliseconds: more runs make their median stable at no real cost.
  const nativeRuns = Math.max(7, o.runs);
  // The tfjs cases take seconds per call: with one run, no warm-up call (the demo's budget).
  const tfjsWarmup = o.runs > 1;
  const progress = new Progress('bench', 2 * (o.runs + (tfjsWarmup ? 1 : 0)) + 2 * (nativeRuns + 1), { quiet: o.quiet });
  const tick = (): void => progress.tick();
  const r = prng(7);
  const logits = tf.tensor2d(Float32Array.from({ length: o.anchors * o.classes }, () => r.uniform(-6, 2)), [o.anchors, o.classes]);
  const labels = tf.tensor1d(Int32Array.from({ length: o.anchors }, () => (r() < 0.01 ? r.int(0, o.classes) : r() < 0.1 ? -2 : -1)), 'int32');
  const was = nativeCpuKernels().enabled;
  // The twin runs on tfjs's own cpu kernels (the native elementwise ones would speed it up too).
  const lossCase = (f: typeof sigmoidFocalLoss, native: boolean): number => {
    useNativeCpuKernels(native);
    try {
      return medianMs(() => tf.tidy(() => { tf.grad((x: tf.Tensor) => f(x, labels))(logits).dataSync(); }), native ? nativeRuns : o.runs, tick, native || tfjsWarmup);
    } finally {
      useNativeCpuKernels(was);
    }
  };
  const loss: SpeedCase = {
    name: `focal loss fwd+bwd, ${o.anchors} anchors × ${o.classes} classes (tf.grad): native kernel vs pure-tfjs twin`,
    nativeMs: lossCase(sigmoidFocalLoss, true), tfjsMs: lossCase(sigmoidFocalLossRef, false), speedup: 0,
  };
  tf.dispose([logits, labels]);

  const model = createRetinaNet({ preset: o.preset, numClasses: 4 });
  const trainer = new Trainer(model, { iterations: 1e6, learningRate: 1e-4 });
  const images = tf.randomNormal([o.batch, o.size, o.size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const s = o.size;
  const boxes = Array.from({ length: o.batch }, () => new Float32Array([0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s, 0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]));
  const gtLabels = Array.from({ length: o.batch }, () => new Int32Array([0, 1]));
  const stepCase = (native: boolean): number => {
    useNativeCpuKernels(native);
    return medianMs(() => trainer.step(images, boxes, gtLabels), native ? nativeRuns : o.runs, tick, native || tfjsWarmup);
  };
  let step: SpeedCase;
  try {
    step = { name: `training step, ${o.preset}, ${o.batch}×${s}×${s}: native cpu kernels vs tfjs's own`, nativeMs: stepCase(true), tfjsMs: stepCase(false), speedup: 0 };
  } finally {
    useNativeCpuKernels(was);
    images.dispose();
    trainer.dispose();
    model.dispose();
  }
  return [loss, step].map((c) => ({ ...c, speedup: c.tfjsMs / c.nativeMs }));
}

export function formatBench(cases: SpeedCase[]): string {
  const w = Math.max(...cases.map((c) => c.name.length));
  return [
    `${'case'.padEnd(w)}   native      tfjs        speed-up`,
    ...cases.map((c) => `${c.name.padEnd(w)}  ${c.nativeMs.toFixed(1).padStart(8)} ms ${c.tfjsMs.toFixed(1).padStart(9)} ms ${c.speedup.toFixed(1).padStart(7)}×`),
  ].join('\n');
}

export function benchCommand(flags: Flags): number {
  const cases = runBench({
    anchors: flags.int('anchors'), classes: flags.int('classes'), preset: flags.string('preset'), size: flags.int('size'), batch: flags.int('batch'), runs: flags.int('runs'),
    quiet: flags.boolean('quiet'),
  });
  console.log(flags.boolean('json') ? JSON.stringify(cases) : formatBench(cases));
  return 0;
}
