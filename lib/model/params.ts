// Named parameters (torchvision's names, so weights can be exchanged) and the layers built on them.
import * as tf from '@tensorflow/tfjs';
import { groupNorm } from '../accel/group-norm';
import { conv2dBiasAct, ConvPadding } from '../accel/conv2d-bias-act';
import { prng } from '../util/prng';

/**
 * 'frozen-bn': a fixed per-channel affine from imported statistics; 'bn': trainable batch norm
 * (batch statistics while training, running statistics otherwise, as torch.nn.BatchNorm2d);
 * 'gn': GroupNorm (native kernel).
 */
export type Norm = 'frozen-bn' | 'bn' | 'gn';

export const NORMS: readonly Norm[] = ['frozen-bn', 'bn', 'gn'];

let nextVariableId = 0;

/** A model's parameters: tfjs variables by torchvision name, Gaussian ones drawn from a seeded PRNG; the layers create theirs here. */
export class Params {
  readonly vars = new Map<string, tf.Variable>();
  /** Names of the norm layers' scales and shifts (weight decay treats them apart). */
  readonly normParams = new Set<string>();
  /** Training mode: trainable batch norm uses (and records) batch statistics. */
  training = false;
  private readonly random: () => number;
  private readonly disposers: Array<() => void> = [];

  /**
   * `groupNormGroups`: the most groups a GroupNorm layer uses (fewer when C is small);
   * `frozenBnEps`: the ε of frozen batch norm's x / sqrt(var + ε).
   */
  constructor(seed: number, readonly groupNormGroups = 32, readonly frozenBnEps = 1e-5) {
    this.random = prng(seed);
  }

  /** Gaussian init (Box-Muller from the seeded PRNG: the same weights on every run). */
  normal(name: string, shape: number[], std: number, trainable = true): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.max(this.random(), 1e-12);
      v[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
    }
    return this.add(name, tf.tensor(v, shape), trainable);
  }

  /** A variable of `shape` filled with `value`. */
  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  private add(name: string, t: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    // tfjs variable names are global to the process: a counter keeps two models of the same
    // preset and seed apart (the save -> load flow builds a second one).
    const v = tf.variable(t, trainable, `${name}_${nextVariableId++}`);
    t.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** The variable named `name`; an Error if there is none. */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** The trainable variables (frozen layers' are not). */
  trainable(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  /** Runs `f` when the parameters are disposed (layers drop what they keep made from them). */
  onDispose(f: () => void): void {
    this.disposers.push(f);
  }

  /** Disposes every variable (and what layers keep made from them) and empties {@link Params.vars}. */
  dispose(): void {
    for (const f of this.disposers) f();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** A conv layer: weight HWIO [k, k, in, out] (torchvision's OIHW is transposed on load), optional bias. */
export class Conv {
  readonly w: tf.Variable;
  readonly b?: tf.Variable;

  constructor(p: Params, readonly name: string, inC: number, outC: number, readonly k: number, readonly stride = 1,
    { bias = false, std, biasInit = 0 }: { bias?: boolean; std?: number; biasInit?: number } = {}) {
    // He init by default (backbone), σ given for the heads (paper: 0.01).
    this.w = p.normal(`${name}.weight`, [k, k, inC, outC], std ?? Math.sqrt(2 / (k * k * outC)));
    if (bias) this.b = p.constant(`${name}.bias`, [outC], biasInit);
  }

  /**
   * The filter and bias of conv(x, w · scale) + shift, a folded per-channel affine norm (the
   * conv's own bias, if any, goes through the affine too).
   */
  fold(scale: tf.Tensor1D, shift: tf.Tensor1D): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
    return { filter: this.w.mul(scale) as tf.Tensor4D, bias: (this.b ? this.b.mul(scale).add(shift) : shift) as tf.Tensor1D };
  }

  /** Explicit symmetric padding k // 2, as torchvision's convs (not tfjs's asymmetric 'same'). */
  padding(): ConvPadding {
    const pad = Math.floor(this.k / 2);
    return pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  }

  /** activation(conv(x) + bias + residual) with this layer's own weights. */
  apply(x: tf.Tensor4D, activation: 'linear' | 'relu' = 'linear', residual?: tf.Tensor4D, onImage = false): tf.Tensor4D {
    return this.run(x, this.w as tf.Tensor4D, this.b as tf.Tensor1D | undefined, activation, residual, onImage);
  }

  /**
   * activation(conv(x, filter) + bias + residual), this layer's stride and padding with the
   * weights given (its own, or folded with a norm). `onImage`: x is the input image while
   * training, whose gradient nobody needs: the backward pass skips that convolution (for the
   * stem's 7x7 on 3 channels, the most expensive convolution of a small model's step).
   */
  run(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined, activation: 'linear' | 'relu' = 'linear',
    residual?: tf.Tensor4D, onImage = false, biasTrains = true): tf.Tensor4D {
    const padding = this.padding();
    // Not tf.fused.conv2d: that unfuses into Conv2D + Add + Relu whenever a gradient is recorded.
    // On the image, no input gradient: the backward pass skips that convolution; a bias made of
    // constants (a frozen norm's shift) gets no gradient either.
    return conv2dBiasAct({ x, filter, strides: this.stride, pad: padding, bias, residual, activation, inputGradient: !onImage, biasGradient: biasTrains });
  }
}

/** Frozen batch norm, trainable batch norm, or GroupNorm (32 groups, fewer when C is small). */
export class NormLayer {
  private readonly weight: tf.Variable;
  private readonly bias: tf.Variable;
  private readonly mean?: tf.Variable;
  private readonly variance?: tf.Variable;

  /** `gamma`: the scale's initial value (0 for a residual branch's last norm with zeroInitResidual). */
  constructor(private readonly p: Params, name: string, readonly channels: number, readonly kind: Norm, gamma = 1) {
    if (!NORMS.includes(kind)) throw new RangeError(`norm: expected one of ${NORMS.join(', ')}, got ${String(kind)}`);
    const frozen = kind === 'frozen-bn';
    this.weight = p.constant(`${name}.weight`, [channels], gamma, !frozen);
    this.bias = p.constant(`${name}.bias`, [channels], 0, !frozen);
    p.normParams.add(`${name}.weight`).add(`${name}.bias`);
    if (kind !== 'gn') {
      this.mean = p.constant(`${name}.running_mean`, [channels], 0, false);
      this.variance = p.constant(`${name}.running_var`, [channels], 1, false);
    }
  }

  /**
   * A batch norm as a per-channel affine y = x · scale + shift from the running statistics
   * (frozen BN always, trainable BN outside training); undefined for GroupNorm and for
   * trainable BN while training.
   */
  folded(): { scale: tf.Tensor1D; shift: tf.Tensor1D } | undefined {
    if (!this.mean || !this.variance || (this.kind === 'bn' && this.p.training)) return undefined;
    const eps = this.kind === 'frozen-bn' ? this.p.frozenBnEps : 1e-5;
    const scale = this.weight.div(this.variance.add(eps).sqrt()) as tf.Tensor1D;
    return { scale, shift: this.bias.sub(this.mean.mul(scale)) as tf.Tensor1D };
  }

  /** The variables {@link NormLayer.folded} reads (to tell when a fold made from them is stale). */
  foldInputs(): tf.Variable[] {
    return [this.weight, this.bias, ...(this.mean ? [this.mean] : []), ...(this.variance ? [this.variance] : [])];
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const f = this.folded();
    if (f) return tf.tidy(() => x.mul(f.scale).add(f.shift));
    if (this.kind === 'bn') return this.batchNorm(x);
    const c = x.shape[3];
    let groups = Math.min(this.p.groupNormGroups, c);
    while (c % groups !== 0) groups--;
    // The native fused kernel (lib/reference/group-norm.ts has the same formula in tfjs ops).
    return groupNorm(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, groups, 1e-5);
  }

  /**
   * Training-mode batch norm: normalized by the batch's mean and biased variance over N, H, W;
   * the running statistics move by momentum 0.1 towards the batch mean and the unbiased
   * variance, as torch.nn.BatchNorm2d's.
   */
  private batchNorm(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w] = x.shape;
    const n = b * h * w;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const running = this.mean as tf.Variable;
    const runningVar = this.variance as tf.Variable;
    tf.tidy(() => {
      running.assign(running.mul(0.9).add(mean.mul(0.1)));
      runningVar.assign(runningVar.mul(0.9).add(variance.mul(0.1 * (n > 1 ? n / (n - 1) : 1))));
    });
    return tf.batchNorm(x, mean, variance, this.bias as tf.Tensor1D, this.weight as tf.Tensor1D, 1e-5) as tf.Tensor4D;
  }
}

/**
 * A convolution followed by its norm layer, as the backbone uses them. Frozen BN is folded into
 * the convolution (filter × scale, bias − mean × scale) so it runs as one fused native
 * convolution with bias and ReLU instead of two extra elementwise passes over the activations;
 * GroupNorm runs as its own native kernel after the convolution.
 */
export class ConvNorm {
  readonly conv: Conv;
  readonly norm: NormLayer;
  /** The folded weights of the last call without a gradient tape, and the tensors they came from. */
  private cache?: { from: tf.DataId[]; filter: tf.Tensor4D; bias: tf.Tensor1D };

  constructor(p: Params, convName: string, normName: string, inC: number, outC: number, k: number, stride: number, kind: Norm, gamma = 1) {
    this.conv = new Conv(p, convName, inC, outC, k, stride);
    this.norm = new NormLayer(p, normName, outC, kind, gamma);
    p.onDispose(() => this.dropCache());
  }

  /** activation(norm(conv(x)) + residual); a folded norm makes it one fused convolution. */
  apply(x: tf.Tensor4D, activation: 'linear' | 'relu' = 'linear', residual?: tf.Tensor4D, onImage = false): tf.Tensor4D {
    return tf.tidy(() => {
      const folded = this.foldedWeights();
      if (folded) return this.conv.run(x, folded.filter, folded.bias, activation, residual, onImage, this.foldedBiasTrains());
      const n = this.norm.apply(this.conv.apply(x, 'linear', undefined, onImage));
      const y = residual ? n.add(residual) : n;
      return activation === 'relu' ? tf.relu(y) : y;
    }) as tf.Tensor4D;
  }

  /**
   * The folded filter and bias, or undefined when the norm does not fold. While no gradient is
   * recorded (inference, evaluation) they are made once and kept until one of the weights they
   * came from is assigned (a new data id): the fold is a pass over every weight, about a tenth of
   * a ResNet-50 inference when remade per call. Under a gradient tape they are remade, so the
   * gradient reaches the weights.
   */
  private foldedWeights(): { filter: tf.Tensor4D; bias: tf.Tensor1D } | undefined {
    const make = (): { filter: tf.Tensor4D; bias: tf.Tensor1D } | undefined => {
      const f = this.norm.folded();
      return f && this.conv.fold(f.scale, f.shift);
    };
    if (tf.engine().isTapeOn()) return make();
    const from = [this.conv.w, ...(this.conv.b ? [this.conv.b] : []), ...this.norm.foldInputs()].map((t) => t.dataId);
    if (this.cache && this.cache.from.length === from.length && this.cache.from.every((id, i) => id === from[i])) return this.cache;
    this.dropCache();
    const made = make();
    if (!made) return undefined;
    this.cache = { from, filter: tf.keep(made.filter), bias: tf.keep(made.bias) };
    return this.cache;
  }

  /** Whether the folded bias comes from anything trainable (not so for frozen BN after a conv without bias). */
  private foldedBiasTrains(): boolean {
    return [this.conv.b, ...this.norm.foldInputs()].some((v) => v !== undefined && v.trainable);
  }

  private dropCache(): void {
    if (!this.cache) return;
    this.cache.filter.dispose();
    this.cache.bias.dispose();
    this.cache = undefined;
  }
}
