// SGD with momentum 0.9 and weight decay 1e-4, linear warm-up, and the paper's step schedule
// (÷10 at 2/3 and 8/9 of the run, scaled to the run's length).
import * as tf from '@tensorflow/tfjs';
import { RetinaNet } from './retinanet';

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
}

export interface StepResult {
  iteration: number;
  learningRate: number;
  loss: number;
  classification: number;
  box: number;
}

export class Trainer {
  private readonly optimizer: tf.MomentumOptimizer;
  private iteration = 0;
  private readonly o: Required<TrainerOptions>;

  constructor(readonly model: RetinaNet, options: TrainerOptions) {
    this.o = {
      learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4, warmupFactor: 1 / 3,
      warmupIterations: Math.min(500, Math.floor(options.iterations / 10)), ...options,
    };
    this.optimizer = tf.train.momentum(this.o.learningRate, this.o.momentum);
  }

  /** The learning rate at an iteration. */
  learningRateAt(it: number): number {
    const { learningRate: lr, iterations, warmupIterations, warmupFactor } = this.o;
    const warm = it < warmupIterations ? warmupFactor + (1 - warmupFactor) * (it / warmupIterations) : 1;
    const decay = it >= Math.floor((8 * iterations) / 9) ? 0.01 : it >= Math.floor((2 * iterations) / 3) ? 0.1 : 1;
    return lr * warm * decay;
  }

  /** One step on a batch; ground truth per image. */
  step(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[]): StepResult {
    const lr = this.learningRateAt(this.iteration);
    this.optimizer.setLearningRate(lr);
    const vars = this.model.params.trainable();
    let parts: number[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const l = this.model.loss(images, gtBoxes, gtLabels);
      parts = [l.classification.dataSync()[0], l.box.dataSync()[0]];
      tf.dispose([l.classification, l.box]);
      return l.total;
    }, vars);
    // Weight decay as an L2 term's gradient, added before momentum (as Detectron's SGD does).
    const decayed = tf.tidy(() => vars.map((v) => ({ name: v.name, tensor: grads[v.name].add(v.mul(this.o.weightDecay)) })));
    this.optimizer.applyGradients(decayed);
    const loss = value.dataSync()[0];
    tf.dispose([value, grads, decayed.map((d) => d.tensor)]);
    return { iteration: this.iteration++, learningRate: lr, loss, classification: parts[0], box: parts[1] };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
