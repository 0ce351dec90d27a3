// SGD with momentum 0.9 and weight decay 1e-4 (none on norm layers), the learning rate scaled
// linearly with the batch (from 0.01 for 16 images with a pretrained backbone, the paper's, or
// 0.08 from scratch), linear warm-up, the paper's step
// schedule (÷10 at 2/3 and 8/9 of the run), the loss normalized by a moving average of the
// foreground count, and recovery from divergence: back to the last good weights at half the
// rate. docs/training.md has the measurements behind each default.
import * as tf from '@tensorflow/tfjs';
import { RetinaNet } from './retinanet';
import { sgdMomentumUpdate, sumOfSquares } from '../accel/ops/sgd';
import { deferredWhileReleasing } from '../tfjs/release';
import { leanVariableGrads } from '../tfjs/lean-gradients';
import { freshTensor, peekFloat32 } from '../tfjs/backend-arrays';

/** The batch the reference learning rates are for; the default rate scales linearly from it. */
export const REFERENCE_BATCH = 16;
/** The paper's rate (§4.1: 0.01 on 16 images, ImageNet-pretrained backbone): models with frozen BN. */
export const PRETRAINED_LEARNING_RATE = 0.01;
/**
 * Models trained from scratch (trainable norms: GroupNorm or batch norm): 0.08 on 16 images, the
 * best of 0.01-0.16 for every batch from 1 to 16 in docs/training.md, with GroupNorm heads.
 */
export const FROM_SCRATCH_LEARNING_RATE = 0.08;

/** Options of a {@link Trainer}: all but `iterations` have defaults. */
export interface TrainerOptions {
  /** Iterations of the whole run (sets the schedule's steps). */
  iterations: number;
  /** Images per iteration, for the default learning rate. Default: each step's own batch. */
  batchSize?: number;
  /**
   * Base learning rate. Default: scaled linearly with the batch from a rate for 16 images, the
   * paper's 0.01 for a model with frozen BN (a pretrained backbone), 0.08 for one trained from
   * scratch (GroupNorm or trainable BN): 0.08 × batchSize / 16.
   */
  learningRate?: number;
  momentum?: number;
  /** L2 weight decay of convolution weights and biases. Default 1e-4. */
  weightDecay?: number;
  /** Weight decay of norm layers' scales and shifts. Default 0 (detectron2's; decaying them only slows GroupNorm from scratch). */
  weightDecayNorm?: number;
  /** Warm-up iterations (linear from warmupFactor × lr). Default min(1000, iterations / 10). */
  warmupIterations?: number;
  /** Default 0.001 (detectron2's). */
  warmupFactor?: number;
  /**
   * 'ema': the losses are divided by a moving average of the batch's foreground count
   * (detectron2's, momentum `normalizerMomentum`), so a batch with few objects does not make a
   * large step; 'batch': by the batch's own count (Detectron's). Default 'ema'.
   */
  normalizer?: 'ema' | 'batch';
  /** Default 0.9. */
  normalizerMomentum?: number;
  /** Gradients whose global L2 norm exceeds this are scaled down to it (0: off). Default 0. */
  clipGradNorm?: number;
  /**
   * How often training may recover from divergence (a non-finite loss or gradient, or a loss per
   * foreground anchor above `spikeFactor` × its recent average) by going back to the last good weights and
   * momentum at half the learning rate; the next divergence stops training with a RangeError.
   * Default 3; 0 stops at the first.
   */
  maxRecoveries?: number;
  /** Default 10. */
  spikeFactor?: number;
}

/** {@link TrainerOptions} with the defaults filled in, as {@link Trainer.options} holds them; `batchSize` null: each step's own batch. */
export type ResolvedTrainerOptions = Required<Omit<TrainerOptions, 'batchSize' | 'learningRate'>> & {
  batchSize: number | null;
  /** null: the linear rule for the step's batch (baseLearningRate). */
  learningRate: number | null;
};

/** Why a step went back to earlier weights. */
export interface Recovery {
  /** The iteration whose loss or gradient diverged. */
  iteration: number;
  /** The iteration training goes on from (its weights and momentum were restored). */
  resumedAt: number;
  reason: string;
  /** The learning rate's multiplier from now on. */
  lrScale: number;
}

/** What one {@link Trainer.step} did: its iteration, learning rate, losses (total, classification, box), gradient norm and normalizer. */
export interface StepResult {
  iteration: number;
  learningRate: number;
  loss: number;
  classification: number;
  box: number;
  /** Global L2 norm of the loss gradient (before clipping). */
  gradNorm: number;
  /** The loss normalizer used (foreground anchors, or their moving average). */
  normalizer: number;
  numForeground: number;
  /** Set when this step diverged and training went back (nothing else was applied). */
  recovered?: Recovery;
}

/** What a checkpoint keeps of a trainer besides the momentum buffers. */
export interface TrainerScalars {
  /** The moving average of the foreground count (null before the first step). */
  normalizer: number | null;
  /** The learning rate's multiplier after recoveries (1 if none). */
  lrScale: number;
  recoveries: number;
  /** Moving average of the loss per foreground anchor (spike detection; null before the first step). */
  lossAverage: number | null;
  goodSteps: number;
}

/** What a checkpoint keeps of a trainer: the next iteration, the momentum buffers and the scalars. */
export interface TrainerState {
  iteration: number;
  /** Momentum buffer of each trainable parameter, by parameter name, in the model's layout. */
  velocities: Map<string, { shape: number[]; data: Float32Array }>;
  scalars?: TrainerScalars;
}

interface Snapshot {
  iteration: number;
  // Once restored, the weights' tensors may hold these very arrays: never written again.
  restored?: boolean;
  params: Map<string, Float32Array>;
  velocities: Map<string, Float32Array>;
  scalars: TrainerScalars;
}

/** Runs shorter than this have no ÷10 steps (3 iterations would otherwise train the last at 1 % of the rate). */
export const MIN_SCHEDULED_ITERATIONS = 20;
const SNAPSHOT_EVERY = 50;
// Steps of loss history before a spike can be judged (the loss falls fast at first).
const SPIKE_WARMUP = 20;
const LOSS_AVERAGE_MOMENTUM = 0.9;

/**
 * Trains a {@link RetinaNet}: SGD with momentum and weight decay, linear warm-up, the paper's step
 * schedule and recovery from divergence, one {@link Trainer.step} per batch; {@link Trainer.state}
 * and {@link Trainer.restore} carry a run across checkpoints.
 */
export class Trainer {
  readonly options: Readonly<ResolvedTrainerOptions>;
  private iter = 0;
  // Momentum buffers by parameter name (torch.optim.SGD's: v = μ·v + g; p -= lr·v).
  private readonly velocities = new Map<string, Float32Array>();
  private scalars: TrainerScalars = { normalizer: null, lrScale: 1, recoveries: 0, lossAverage: null, goodSteps: 0 };
  // The last two snapshots: divergence restores the older one, at least SNAPSHOT_EVERY steps back,
  // so that weights already on their way up are not what training goes back to.
  private snapshots: Snapshot[] = [];

  constructor(readonly model: RetinaNet, options: TrainerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
    if (!Number.isInteger(options.iterations) || options.iterations < 1) {
      throw new RangeError(`iterations: expected an integer >= 1, got ${String(options.iterations)}`);
    }
    const o: ResolvedTrainerOptions = {
      batchSize: null, learningRate: null, momentum: 0.9, weightDecay: 1e-4, weightDecayNorm: 0,
      warmupIterations: Math.min(1000, Math.floor(options.iterations / 10)), warmupFactor: 0.001,
      normalizer: 'ema', normalizerMomentum: 0.9, clipGradNorm: 0, maxRecoveries: 3, spikeFactor: 10,
      ...stripUndefined(options), iterations: options.iterations,
    };
    for (const k of ['momentum', 'weightDecay', 'weightDecayNorm', 'warmupFactor', 'clipGradNorm', 'warmupIterations', 'maxRecoveries', 'spikeFactor'] as const) {
      if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0) throw new RangeError(`${k}: expected a finite number >= 0, got ${String(o[k])}`);
    }
    if (o.learningRate !== null && !(typeof o.learningRate === 'number' && Number.isFinite(o.learningRate) && o.learningRate >= 0)) {
      throw new RangeError(`learningRate: expected a finite number >= 0, got ${String(o.learningRate)}`);
    }
    if (o.batchSize !== null && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
      throw new RangeError(`batchSize: expected an integer >= 1, got ${String(o.batchSize)}`);
    }
    if (o.normalizer !== 'ema' && o.normalizer !== 'batch') throw new RangeError(`normalizer: expected 'ema' or 'batch', got ${String(o.normalizer)}`);
    if (!(o.normalizerMomentum < 1)) throw new RangeError(`normalizerMomentum: expected a number in [0, 1), got ${o.normalizerMomentum}`);
    if (!Number.isInteger(o.warmupIterations) || !Number.isInteger(o.maxRecoveries)) {
      throw new RangeError('warmupIterations, maxRecoveries: expected integers');
    }
    this.options = o;
  }

  /** The next iteration to run (0 for a new trainer). */
  get iteration(): number {
    return this.iter;
  }

  /** The learning rate's multiplier after recoveries from divergence (1 if none). */
  get lrScale(): number {
    return this.scalars.lrScale;
  }

  /** The base learning rate for a batch of `batch` images (the option, or the linear rule). */
  baseLearningRate(batch = this.options.batchSize ?? REFERENCE_BATCH): number {
    const reference = this.model.config.norm === 'frozen-bn' ? PRETRAINED_LEARNING_RATE : FROM_SCRATCH_LEARNING_RATE;
    return this.options.learningRate ?? (reference * batch) / REFERENCE_BATCH;
  }

  /** The learning rate at an iteration (for a batch of `batch` images when no rate was given). */
  learningRateAt(it: number, batch?: number): number {
    const { iterations, warmupIterations, warmupFactor } = this.options;
    const warm = it < warmupIterations ? warmupFactor + (1 - warmupFactor) * (it / warmupIterations) : 1;
    // Runs too short for a schedule (smoke tests, a few steps of fine-tuning) keep the base rate.
    const stepped = iterations >= MIN_SCHEDULED_ITERATIONS;
    const decay = !stepped ? 1 : it >= Math.floor((8 * iterations) / 9) ? 0.01 : it >= Math.floor((2 * iterations) / 3) ? 0.1 : 1;
    return this.baseLearningRate(batch) * warm * decay * this.scalars.lrScale;
  }

  /**
   * One step on a batch; ground truth per image. When the step diverges and a recovery is left,
   * nothing is applied, the weights and momentum go back to a snapshot, `iteration` moves back to
   * it, and the result carries `recovered`; with none left it throws a RangeError.
   */
  step(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[]): StepResult {
    // A step's buffers are either live (the activations its backward pass has yet to reach) or
    // freed by the cpu backend when disposed: V8 collecting at every 64 MB of them would free
    // nothing (see deferredWhileReleasing).
    return deferredWhileReleasing(() => this.stepOnce(images, gtBoxes, gtLabels));
  }

  private stepOnce(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[]): StepResult {
    const it = this.iter;
    if (this.snapshots.length === 0 || it - this.snapshots[this.snapshots.length - 1].iteration >= SNAPSHOT_EVERY) this.takeSnapshot();
    const lr = this.learningRateAt(it, images.shape[0]);
    const { momentum, weightDecay, weightDecayNorm, clipGradNorm } = this.options;
    const named = [...this.model.params.vars].filter(([, v]) => v.trainable);
    let parts = [NaN, NaN];
    let normalizer = NaN;
    let numForeground = 0;
    const normalize = (fg: number): number => {
      numForeground = fg;
      const count = Math.max(1, fg);
      const s = this.scalars;
      if (this.options.normalizer === 'batch') normalizer = count;
      else normalizer = s.normalizer === null ? count : this.options.normalizerMomentum * s.normalizer + (1 - this.options.normalizerMomentum) * count;
      return normalizer;
    };
    const result = (loss: number, gradNorm: number, recovered?: Recovery): StepResult => ({
      iteration: it, learningRate: lr, loss, classification: parts[0], box: parts[1], gradNorm, normalizer, numForeground,
      ...(recovered ? { recovered } : {}),
    });
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    try {
      ({ value, grads } = leanVariableGrads(() => {
        const l = this.model.loss(images, gtBoxes, gtLabels, { normalizer: normalize });
        parts = [l.classification.dataSync()[0], l.box.dataSync()[0]];
        tf.dispose([l.classification, l.box]);
        return l.total;
      }, named.map(([, v]) => v)));
    } catch (e) {
      // Weights blown up by an earlier update reach the loss kernel as non-finite logits.
      if (e instanceof RangeError && /non-finite/.test(e.message)) return result(NaN, NaN, this.diverged(it, `not finite (${e.message})`));
      throw e;
    }
    const loss = value.dataSync()[0];
    const s = this.scalars;
    // Spikes are judged per foreground anchor of the batch itself: a batch with many more objects
    // than the average has a larger loss under the moving-average normalizer, and is no spike.
    const perAnchor = (loss * normalizer) / Math.max(1, numForeground);
    const spike = s.lossAverage !== null && s.goodSteps >= SPIKE_WARMUP && perAnchor > this.options.spikeFactor * s.lossAverage;
    if (!Number.isFinite(loss) || spike) {
      tf.dispose([value, grads]);
      const why = spike
        ? `${loss.toPrecision(3)} (${perAnchor.toPrecision(3)} per foreground anchor, over ${this.options.spikeFactor}× its recent average ${s.lossAverage?.toPrecision(3)})`
        : String(loss);
      return result(loss, NaN, this.diverged(it, why));
    }
    // The update in one native pass per parameter (torch.optim.SGD's: g += wd·p; v = μ·v + g;
    // p -= lr·v; ops.sgdMomentumUpdate, with the bits of the JavaScript loop it replaced): seven
    // tfjs ops per parameter cost far more in dispatch than the arithmetic, a JavaScript loop over
    // ResNet-50's 38M weights ~0.3 s, and the buffers stay plain arrays for checkpoints.
    let sq = 0;
    for (const [, v] of named) sq = sumOfSquares(peekFloat32(grads[v.name]), sq);
    const gradNorm = Math.sqrt(sq);
    if (!Number.isFinite(gradNorm)) {
      // Refused before any weight changes.
      tf.dispose([value, grads]);
      return result(loss, gradNorm, this.diverged(it, `${loss} but its gradient is not finite`));
    }
    const gradScale = clipGradNorm > 0 && gradNorm > clipGradNorm ? clipGradNorm / gradNorm : 1;
    const norms = this.model.params.normParams;
    for (const [name, v] of named) {
      // Read in place, not read out, so that the old weights and the gradients are freed when
      // disposed (lib/tfjs/release.ts) rather than left for the collector.
      const g = peekFloat32(grads[v.name]);
      const p = peekFloat32(v);
      let velocity = this.velocities.get(name);
      if (!velocity) {
        velocity = new Float32Array(p.length);
        this.velocities.set(name, velocity);
      }
      const decay = norms.has(name) ? weightDecayNorm : weightDecay;
      const [next] = sgdMomentumUpdate(p, g, velocity, { learningRate: lr, momentum, weightDecay: decay, gradScale }, { velocity });
      const t = freshTensor(next, v.shape);
      v.assign(t);
      t.dispose();
    }
    tf.dispose([value, grads]);
    s.normalizer = this.options.normalizer === 'ema' ? normalizer : s.normalizer;
    s.lossAverage = s.lossAverage === null ? perAnchor : LOSS_AVERAGE_MOMENTUM * s.lossAverage + (1 - LOSS_AVERAGE_MOMENTUM) * perAnchor;
    s.goodSteps++;
    this.iter++;
    return result(loss, gradNorm);
  }

  /** Goes back to the older snapshot at a lower rate, or throws when no recovery is left. */
  private diverged(it: number, what: string): Recovery {
    const { maxRecoveries } = this.options;
    const target = this.snapshots[0];
    if (this.scalars.recoveries >= maxRecoveries || !target) {
      const tried = maxRecoveries > 0 ? ` after ${this.scalars.recoveries} recoveries (each back to earlier weights at half the learning rate)` : '';
      throw new RangeError(`the loss is ${what} at iteration ${it}: training diverged${tried}; lower the learning rate or set clipGradNorm`);
    }
    for (const [name, data] of target.params) {
      const v = this.model.params.get(name);
      const t = tf.tensor(data, v.shape, 'float32');
      v.assign(t);
      t.dispose();
    }
    this.velocities.clear();
    for (const [name, data] of target.velocities) this.velocities.set(name, data.slice());
    this.scalars = { ...target.scalars, lrScale: this.scalars.lrScale / 2, recoveries: this.scalars.recoveries + 1, goodSteps: 0 };
    this.iter = target.iteration;
    // The restored state is the only good one known now.
    target.restored = true;
    this.snapshots = [target];
    return { iteration: it, resumedAt: target.iteration, reason: `loss ${what}`, lrScale: this.scalars.lrScale };
  }

  private takeSnapshot(): void {
    if (this.options.maxRecoveries === 0) return;
    // Two kept: with two already, the older one's arrays take the new copies (a long run then
    // holds two sets of weights and momentum, not a third while the oldest waits to be freed).
    const old = this.snapshots.length >= 2 ? this.snapshots.shift() : undefined;
    const copy = (from: Float32Array, reuse: Float32Array | undefined): Float32Array => {
      if (reuse === undefined || reuse.length !== from.length) return from.slice();
      reuse.set(from);
      return reuse;
    };
    const params = new Map<string, Float32Array>();
    // Read in place (a dataSync would leave the weights' buffers to the collector: release.ts).
    for (const [name, v] of this.model.params.vars) if (v.trainable) params.set(name, copy(peekFloat32(v), old?.restored ? undefined : old?.params.get(name)));
    const velocities = new Map<string, Float32Array>();
    for (const [name, v] of this.velocities) velocities.set(name, copy(v, old?.velocities.get(name)));
    this.snapshots.push({ iteration: this.iter, params, velocities, scalars: { ...this.scalars } });
  }

  /** A copy of the state a resumed run needs. */
  state(): TrainerState {
    const velocities = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.velocities) velocities.set(name, { shape: (this.model.params.get(name).shape).slice(), data: v.slice() });
    return { iteration: this.iter, velocities, scalars: { ...this.scalars } };
  }

  /** Restores a state from {@link state} (checked in full before anything changes). */
  restore(state: TrainerState): void {
    if (!Number.isInteger(state.iteration) || state.iteration < 0) throw new RangeError(`iteration: expected an integer >= 0, got ${state.iteration}`);
    for (const [name, t] of state.velocities) {
      const v = this.model.params.vars.get(name);
      if (!v || !v.trainable) throw new RangeError(`momentum buffer '${name}' names no trainable parameter of this model`);
      if (t.shape.length !== v.rank || t.shape.some((d, i) => d !== v.shape[i]) || t.data.length !== v.size) {
        throw new RangeError(`momentum buffer '${name}': shape [${t.shape}] is not the parameter's [${v.shape}]`);
      }
    }
    const sc = state.scalars;
    if (sc !== undefined) {
      const ok = (x: unknown, nullable: boolean): boolean => (nullable && x === null) || (typeof x === 'number' && Number.isFinite(x) && x >= 0);
      if (!ok(sc.normalizer, true) || !ok(sc.lossAverage, true) || !ok(sc.lrScale, false) || !ok(sc.recoveries, false) || !ok(sc.goodSteps, false)) {
        throw new RangeError(`trainer scalars: expected finite numbers >= 0, got ${JSON.stringify(sc)}`);
      }
    }
    this.velocities.clear();
    for (const [name, t] of state.velocities) this.velocities.set(name, t.data.slice());
    this.iter = state.iteration;
    if (sc !== undefined) this.scalars = { ...sc };
    this.snapshots = [];
  }

  /** Drops the momentum buffers and the recovery snapshots (the model is not disposed). */
  dispose(): void {
    this.velocities.clear();
    this.snapshots = [];
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
