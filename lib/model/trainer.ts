// SGD with momentum 0.9 and weight decay 1e-4, linear warm-up, and the paper's step schedule
// (÷10 at 2/3 and 8/9 of the run, scaled to the run's length).
import * as tf from '@tensorflow/tfjs';
import { RetinaNet } from './retinanet';
import { sgdMomentumUpdate, sumOfSquares } from '../ops/sgd';

export interface TrainerOptions {
  /** Iterations of the whole run (sets the schedule's steps). */
  iterations: number;
  /** Base learning rate. Default 0.01 (the paper's, for 16 images per batch). */
  learningRate?: number;
  momentum?: number;
  weightDecay?: number;
  /** Warm-up iterations (linear from warmupFactor × lr). Default min(500, iterations / 10). */
  warmupIterations?: number;
  warmupFactor?: number;
  /** Gradients whose global L2 norm exceeds this are scaled down to it (0: off). Default 0. */
  clipGradNorm?: number;
}

export interface StepResult {
  iteration: number;
  learningRate: number;
  loss: number;
  classification: number;
  box: number;
  /** Global L2 norm of the loss gradient (before clipping). */
  gradNorm: number;
}

/** What a checkpoint keeps of a trainer: the next iteration and the momentum buffers. */
export interface TrainerState {
  iteration: number;
  /** Momentum buffer of each trainable parameter, by parameter name, in the model's layout. */
  velocities: Map<string, { shape: number[]; data: Float32Array }>;
}

export class Trainer {
  readonly options: Readonly<Required<TrainerOptions>>;
  private iter = 0;
  // Momentum buffers by parameter name (torch.optim.SGD's: v = μ·v + g; p -= lr·v).
  private readonly velocities = new Map<string, Float32Array>();

  constructor(readonly model: RetinaNet, options: TrainerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
    const o = {
      learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4, warmupFactor: 1 / 3, clipGradNorm: 0,
      warmupIterations: Math.min(500, Math.floor(options.iterations / 10)), ...options,
    };
    if (!Number.isInteger(o.iterations) || o.iterations < 1) throw new RangeError(`iterations: expected an integer >= 1, got ${o.iterations}`);
    for (const k of ['learningRate', 'momentum', 'weightDecay', 'warmupFactor', 'clipGradNorm', 'warmupIterations'] as const) {
      if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0) throw new RangeError(`${k}: expected a finite number >= 0, got ${o[k]}`);
    }
    this.options = o;
  }

  /** The next iteration to run (0 for a new trainer). */
  get iteration(): number {
    return this.iter;
  }

  /** The learning rate at an iteration. */
  learningRateAt(it: number): number {
    const { learningRate: lr, iterations, warmupIterations, warmupFactor } = this.options;
    const warm = it < warmupIterations ? warmupFactor + (1 - warmupFactor) * (it / warmupIterations) : 1;
    const decay = it >= Math.floor((8 * iterations) / 9) ? 0.01 : it >= Math.floor((2 * iterations) / 3) ? 0.1 : 1;
    return lr * warm * decay;
  }

  /** One step on a batch; ground truth per image. */
  step(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[]): StepResult {
    const lr = this.learningRateAt(this.iter);
    const { momentum, weightDecay, clipGradNorm } = this.options;
    const named = [...this.model.params.vars].filter(([, v]) => v.trainable);
    let parts: number[] = [];
    const diverged = (what: string): RangeError =>
      new RangeError(`the loss is ${what} at iteration ${this.iter}: training diverged; lower the learning rate or set clipGradNorm`);
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    try {
      ({ value, grads } = tf.variableGrads(() => {
        const l = this.model.loss(images, gtBoxes, gtLabels);
        parts = [l.classification.dataSync()[0], l.box.dataSync()[0]];
        tf.dispose([l.classification, l.box]);
        return l.total;
      }, named.map(([, v]) => v)));
    } catch (e) {
      // Weights blown up by the previous update reach the loss kernel as non-finite logits.
      if (e instanceof RangeError && /non-finite/.test(e.message)) throw diverged(`not finite (${e.message})`);
      throw e;
    }
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      tf.dispose([value, grads]);
      throw diverged(String(loss));
    }
    // The update in one native pass per parameter (torch.optim.SGD's: g += wd·p; v = μ·v + g;
    // p -= lr·v; ops.sgdMomentumUpdate, with the bits of the JavaScript loop it replaced): seven
    // tfjs ops per parameter cost far more in dispatch than the arithmetic, a JavaScript loop over
    // ResNet-50's 38M weights ~0.3 s, and the buffers stay plain arrays for checkpoints.
    let sq = 0;
    for (const [, v] of named) sq = sumOfSquares(grads[v.name].dataSync() as Float32Array, sq);
    const gradNorm = Math.sqrt(sq);
    if (!Number.isFinite(gradNorm)) {
      // Refused before any weight changes: the model stays as it was after the last good step.
      tf.dispose([value, grads]);
      throw diverged(`${loss} but its gradient is not finite`);
    }
    const gradScale = clipGradNorm > 0 && gradNorm > clipGradNorm ? clipGradNorm / gradNorm : 1;
    for (const [name, v] of named) {
      const g = grads[v.name].dataSync() as Float32Array;
      const p = v.dataSync() as Float32Array;
      let velocity = this.velocities.get(name);
      if (!velocity) {
        velocity = new Float32Array(p.length);
        this.velocities.set(name, velocity);
      }
      const [next] = sgdMomentumUpdate(p, g, velocity, { learningRate: lr, momentum, weightDecay, gradScale }, { velocity });
      const t = tf.tensor(next, v.shape, 'float32');
      v.assign(t);
      t.dispose();
    }
    tf.dispose([value, grads]);
    return { iteration: this.iter++, learningRate: lr, loss, classification: parts[0], box: parts[1], gradNorm };
  }

  /** A copy of the state a resumed run needs. */
  state(): TrainerState {
    const velocities = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.velocities) velocities.set(name, { shape: (this.model.params.get(name).shape).slice(), data: v.slice() });
    return { iteration: this.iter, velocities };
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
    this.velocities.clear();
    for (const [name, t] of state.velocities) this.velocities.set(name, t.data.slice());
    this.iter = state.iteration;
  }

  dispose(): void {
    this.velocities.clear();
  }
}
