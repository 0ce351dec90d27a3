// RetinaNet (§4): ResNet + FPN P3–P7 + shared class / box subnets, trained with the native
// targets and focal loss, detecting with the native post-processing.
import * as tf from '@tensorflow/tfjs';
import { freeAsWeGo } from './free-as-we-go';
import * as ops from '../ops';
import { focalLossStar, sigmoidFocalLoss } from '../tfjs/focal-loss';
import { postprocess } from '../tfjs/postprocess';
import { FOCAL_LOSS_DEFAULTS } from '../ops/focal-loss';
import { Fpn } from './fpn';
import { HeadNorm, Subnet } from './head';
import { Norm, Params } from './params';
import { ResNet } from './resnet';
import { deferredWhileReleasing } from '../tfjs/release';

/** A RetinaNet's configuration: every field but `numClasses` has a default (given below); {@link PRESETS} names common sets. */
export interface RetinaNetConfig {
  numClasses: number;
  /** ResNet depth. Default 50. */
  depth?: 18 | 34 | 50 | 101;
  /** Scales the backbone's widths (small experiments). Default 1. */
  widthMultiplier?: number;
  /** FPN and head channels. Default 256. */
  channels?: number;
  /** [3x3 conv, ReLU] layers per subnet. Default 4. */
  headDepth?: number;
  /** 'frozen-bn' (for imported weights), 'bn' (trainable batch norm) or 'gn' (GroupNorm, from scratch). Default 'frozen-bn'. */
  norm?: Norm;
  /** GroupNorm's group count (fewer when a layer has fewer channels, lowered until it divides them). Default 32, torchvision's. */
  groupNormGroups?: number;
  /** Each residual block's last norm starts at scale 0 (torchvision's zero_init_residual; from scratch only). Default false. */
  zeroInitResidual?: boolean;
  /** Norm in the class / box subnets: 'none' (the paper, torchvision v1) or 'gn' (GroupNorm after each hidden conv, torchvision v2). Default 'none'. */
  headNorm?: HeadNorm;
  /** P6 from P5 (torchvision's v1 model) instead of C5 (the paper). Default false. */
  p6FromP5?: boolean;
  /** π of the class subnet's initial bias. Default 0.01. */
  prior?: number;
  /** Anchor options (sizes, scales, aspect ratios…) beyond the image size. */
  anchors?: Omit<ops.AnchorOptions, 'height' | 'width' | 'levels'>;
  /** Focal loss α and γ. Defaults 0.25 and 2; α `null`: no α-balancing; γ 0 with 'focal' is (α-balanced) CE. */
  alpha?: number | null;
  gamma?: number;
  /** Classification loss: 'focal' (FL, eq. 5) or 'focal-star' (FL*, appendix A). Default 'focal'. */
  classificationLoss?: 'focal' | 'focal-star';
  /** FL*'s β (used with 'focal-star' only). Default 0. */
  focalStarBeta?: number;
  /** Box loss: smooth L1 with this β; 0 (the default, torchvision's) is plain L1 (docs/training.md). */
  smoothL1Beta?: number;
  /** The box loss's weight in the total. Default 1 (the paper's, detectron2's and torchvision's). */
  boxLossWeight?: number;
  /**
   * ε of frozen batch norm (x / sqrt(var + ε)). Default 1e-5 (torchvision's FrozenBatchNorm2d);
   * torchvision runs its COCO-trained `retinanet_resnet50_fpn` (v1) weights with 0
   * (`overwrite_eps(model, 0.0)`), so a model loading them needs 0 to compute what they do.
   */
  frozenBnEps?: number;
  /**
   * Backbone stages that train, counted from the top (torchvision's `trainable_backbone_layers`):
   * 5 trains all (conv1 and its norm, layer1–4), 3 freezes conv1 and layer1 (torchvision's default
   * when fine-tuning a pretrained backbone), 0 freezes the whole ResNet body. Frozen parameters
   * are not variables the Trainer updates. Default 5.
   */
  trainableBackboneLayers?: number;
  /** Seed of the initial weights. Default 1. */
  seed?: number;
}

/** Anchors per feature-map cell of a configuration: scales × aspect ratios (3 × 3 by default). */
export function anchorsPerLocation(config: Pick<RetinaNetConfig, 'anchors'>): number {
  return (config.anchors?.scales?.length ?? 3) * (config.anchors?.aspectRatios?.length ?? 3);
}

/** torchvision's order: the top `k` of these train (5 also trains conv1's norm, bn1). */
const BACKBONE_LAYERS = ['layer4', 'layer3', 'layer2', 'layer1', 'conv1'];

function freezeBackboneLayers(params: Params, trainable: number): void {
  const train = new Set(BACKBONE_LAYERS.slice(0, trainable));
  if (trainable === 5) train.add('bn1');
  for (const [name, v] of params.vars) {
    const m = /^backbone\.body\.([^.]+)\./.exec(name);
    if (m && !train.has(m[1])) v.trainable = false;
  }
}

export const PRESETS: Record<string, Omit<RetinaNetConfig, 'numClasses'>> = {
  'retinanet-r50-fpn': { depth: 50 },
  'retinanet-r101-fpn': { depth: 101 },
  // Full-width ResNet-18/34 bodies, for torchvision's ImageNet weights (--backbone-weights).
  'retinanet-r18-fpn': { depth: 18 },
  'retinanet-r34-fpn': { depth: 34 },
  // torchvision's published COCO detectors, for their weights (loadWeights reads their .pth):
  // v1 takes P6 from P5 and runs its frozen BN with eps 0 (overwrite_eps); v2 has GroupNorm heads
  // and P6 from C5 (its GIoU box loss is not reproduced: for inference and fine-tuning with L1).
  retinanet_resnet50_fpn: { depth: 50, p6FromP5: true, frozenBnEps: 0 },
  retinanet_resnet50_fpn_v2: { depth: 50, headNorm: 'gn' },
  // Small presets that train on a 2-core CPU in minutes, from scratch: GroupNorm in the backbone
  // and in the heads (without it one gradient spike kills the heads' ReLUs and the run collapses),
  // the paper's four convs per subnet (one cost 5-7 AP: docs/training.md).
  'retinanet-r18-small': { depth: 18, widthMultiplier: 0.25, channels: 64, headDepth: 4, norm: 'gn', headNorm: 'gn' },
  'retinanet-r18-tiny': { depth: 18, widthMultiplier: 0.125, channels: 32, headDepth: 4, norm: 'gn', headNorm: 'gn' },
};

/** One pyramid level's raw head outputs: class logits [B, H·W·A, K] and box deltas [B, H·W·A, 4], in the anchors' order. */
export interface LevelHeads {
  logits: tf.Tensor3D;
  deltas: tf.Tensor3D;
}

/** A batch's losses (scalar tensors, summed over levels and divided by the normalizer): `total` is classification + boxLossWeight × box. */
export interface Losses {
  total: tf.Scalar;
  classification: tf.Scalar;
  box: tf.Scalar;
  /** Foreground anchors of the batch (the default normalizer, before the at-least-1 rule). */
  numForeground: number;
}

/** Options of {@link RetinaNet.loss}. */
export interface LossOptions {
  /**
   * Divides both losses' sums. Default: the batch's foreground anchors, at least 1. A function
   * receives that count and returns the normalizer (the Trainer's moving average).
   */
  normalizer?: number | ((numForeground: number) => number);
}

/**
 * RetinaNet (§4): a ResNet backbone, FPN levels P3–P7 and class / box subnets shared across levels,
 * its parameters named as torchvision's. {@link createRetinaNet} builds one from a preset.
 */
export class RetinaNet {
  readonly params: Params;
  readonly config: Required<Omit<RetinaNetConfig, 'anchors'>> & { anchors: RetinaNetConfig['anchors'] };
  readonly anchorsPerLocation: number;
  readonly backbone: ResNet;
  readonly fpn: Fpn;
  readonly classHead: Subnet;
  readonly boxHead: Subnet;
  private readonly anchorCache = new Map<string, ops.Anchors>();

  constructor(config: RetinaNetConfig) {
    const c = {
      depth: 50, widthMultiplier: 1, channels: 256, headDepth: 4, norm: 'frozen-bn' as Norm, headNorm: 'none' as HeadNorm, zeroInitResidual: false, groupNormGroups: 32, p6FromP5: false,
      prior: 0.01, alpha: FOCAL_LOSS_DEFAULTS.alpha, gamma: FOCAL_LOSS_DEFAULTS.gamma, classificationLoss: 'focal', focalStarBeta: 0, smoothL1Beta: 0, boxLossWeight: 1, trainableBackboneLayers: 5, frozenBnEps: 1e-5, seed: 1, ...config,
    } as RetinaNet['config'];
    if (!Number.isInteger(c.numClasses) || c.numClasses < 1) throw new RangeError('numClasses: expected an integer >= 1');
    if (c.alpha !== null && !(typeof c.alpha === 'number' && c.alpha >= 0 && c.alpha <= 1)) {
      throw new RangeError(`alpha: expected a number in [0, 1] or null, got ${String(c.alpha)}`);
    }
    if (!(typeof c.gamma === 'number' && c.gamma >= 0 && Number.isFinite(c.gamma))) throw new RangeError(`gamma: expected a finite number >= 0, got ${String(c.gamma)}`);
    if (!(typeof c.prior === 'number' && c.prior > 0 && c.prior < 1)) throw new RangeError(`prior: expected a number in (0, 1), got ${String(c.prior)}`);
    if (c.classificationLoss !== 'focal' && c.classificationLoss !== 'focal-star') {
      throw new RangeError(`classificationLoss: expected 'focal' or 'focal-star', got ${String(c.classificationLoss)}`);
    }
    if (!(typeof c.boxLossWeight === 'number' && Number.isFinite(c.boxLossWeight) && c.boxLossWeight >= 0)) {
      throw new RangeError(`boxLossWeight: expected a finite number >= 0, got ${String(c.boxLossWeight)}`);
    }
    if (!(typeof c.smoothL1Beta === 'number' && Number.isFinite(c.smoothL1Beta) && c.smoothL1Beta >= 0)) {
      throw new RangeError(`smoothL1Beta: expected a finite number >= 0, got ${String(c.smoothL1Beta)}`);
    }
    if (!(Number.isInteger(c.trainableBackboneLayers) && c.trainableBackboneLayers >= 0 && c.trainableBackboneLayers <= 5)) {
      throw new RangeError(`trainableBackboneLayers: expected an integer in [0, 5], got ${String(c.trainableBackboneLayers)}`);
    }
    if (c.headNorm !== 'none' && c.headNorm !== 'gn') throw new RangeError(`headNorm: expected 'none' or 'gn', got ${String(c.headNorm)}`);
    if (!(typeof c.focalStarBeta === 'number' && Number.isFinite(c.focalStarBeta))) throw new RangeError(`focalStarBeta: expected a finite number, got ${String(c.focalStarBeta)}`);
    this.config = c;
    this.anchorsPerLocation = anchorsPerLocation(c);
    if (!(Number.isInteger(c.groupNormGroups) && c.groupNormGroups >= 1)) throw new RangeError(`groupNormGroups: expected an integer >= 1, got ${String(c.groupNormGroups)}`);
    if (!(typeof c.frozenBnEps === 'number' && Number.isFinite(c.frozenBnEps) && c.frozenBnEps >= 0)) {
      throw new RangeError(`frozenBnEps: expected a finite number >= 0, got ${String(c.frozenBnEps)}`);
    }
    this.params = new Params(c.seed, c.groupNormGroups, c.frozenBnEps);
    this.backbone = new ResNet(this.params, c.depth, c.widthMultiplier, c.norm, c.zeroInitResidual);
    this.fpn = new Fpn(this.params, this.backbone.channels, c.channels, c.p6FromP5);
    const a = this.anchorsPerLocation;
    this.classHead = new Subnet(this.params, 'head.classification_head', 'cls_logits', c.channels, c.headDepth, c.numClasses, a,
      -Math.log((1 - c.prior) / c.prior), c.headNorm);
    this.boxHead = new Subnet(this.params, 'head.regression_head', 'bbox_reg', c.channels, c.headDepth, 4, a, 0, c.headNorm);
    freezeBackboneLayers(this.params, c.trainableBackboneLayers);
  }

  /** Raw head outputs per level P3–P7: logits [B, H·W·A, K], deltas [B, H·W·A, 4]. */
  forward(images: tf.Tensor4D): LevelHeads[] {
    const c = this.backbone.apply(images);
    const feats = this.fpn.apply(c);
    // Outside a tape, C3-C5 go once the pyramid exists, and each level once its heads have run;
    // each head convolution runs on all levels at once.
    if (freeAsWeGo()) {
      tf.dispose(c.filter((t) => !feats.includes(t)));
      const logits = this.classHead.applyLevels(feats);
      const deltas = this.boxHead.applyLevels(feats);
      tf.dispose(feats);
      return logits.map((l, i) => ({ logits: l, deltas: deltas[i] }));
    }
    return feats.map((f) => ({ logits: this.classHead.apply(f), deltas: this.boxHead.apply(f) }));
  }

  /** The anchors of an image size (cached). */
  anchors(height: number, width: number): ops.Anchors {
    const key = `${height}x${width}`;
    let a = this.anchorCache.get(key);
    if (!a) {
      a = ops.generateAnchors({ ...(this.config.anchors ?? {}), height, width });
      this.anchorCache.set(key, a);
    }
    return a;
  }

  /**
   * Losses of a batch: focal loss over all anchors and the box loss (smooth L1) on the foreground
   * anchors, both divided by one normalizer: the batch's foreground count (Detectron's rule; at
   * least 1) unless `options.normalizer` is given (the Trainer passes a moving average of it).
   * Ground truth per image.
   */
  loss(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[], options: LossOptions = {}): Losses {
    const [b, h, w] = images.shape;
    if (gtBoxes.length !== b || gtLabels.length !== b) throw new RangeError(`gtBoxes, gtLabels: expected ${b} images`);
    const { anchors, levels } = this.anchors(h, w);
    const t = ops.retinanetTargetsBatch(anchors, gtBoxes, gtLabels, { numClasses: this.config.numClasses });
    const n = anchors.length / 4;
    const given = options.normalizer;
    const normalizer = typeof given === 'function' ? given(t.numForeground) : given ?? Math.max(1, t.numForeground);
    if (!(typeof normalizer === 'number' && Number.isFinite(normalizer) && normalizer > 0)) {
      throw new RangeError(`normalizer: expected a finite number > 0, got ${String(normalizer)}`);
    }
    // Training mode for the forward pass (trainable batch norm uses batch statistics).
    this.params.training = true;
    try {
      return { ...this.lossOf(images, t, levels, n, normalizer), numForeground: t.numForeground };
    } finally {
      this.params.training = false;
    }
  }

  private lossOf(images: tf.Tensor4D, t: ops.BatchTargets, levels: ops.AnchorLevel[], n: number, normalizer: number): Omit<Losses, 'numForeground'> {
    const b = images.shape[0];
    const beta = this.config.smoothL1Beta;
    return tf.tidy(() => {
      // Per level, never concatenated: the backward pass of a concat is a strided split, slow
      // on tfjs's cpu backend, and the sums over levels are the same loss.
      const parts = this.forward(images).map((head, i) => {
        const { start, count } = levels[i];
        const labels = new Int32Array(b * count);
        const targets = new Float32Array(b * count * 4);
        for (let im = 0; im < b; im++) {
          labels.set(t.labels.subarray(im * n + start, im * n + start + count), im * count);
          targets.set(t.boxTargets.subarray((im * n + start) * 4, (im * n + start + count) * 4), im * count * 4);
        }
        const labelTensor = tf.tensor2d(labels, [b, count], 'int32');
        const { alpha, gamma } = this.config;
        const classification = this.config.classificationLoss === 'focal-star'
          ? focalLossStar(head.logits, labelTensor, { alpha, gamma, beta: this.config.focalStarBeta, normalizer })
          : sigmoidFocalLoss(head.logits, labelTensor, { alpha, gamma, normalizer });
        const fg = tf.tensor3d(Float32Array.from(labels, (l) => (l >= 0 ? 1 : 0)), [b, count, 1]);
        const diff = tf.abs(head.deltas.sub(tf.tensor3d(targets, [b, count, 4])));
        // smooth L1 = 0.5 m² / β + (d − m) with m = min(d, β): one differentiable expression.
        const m = tf.minimum(diff, beta);
        const perCoord = beta > 0 ? m.square().mul(0.5 / beta).add(diff.sub(m)) : diff;
        return { classification, box: perCoord.mul(fg).sum().div(normalizer) as tf.Scalar };
      });
      const classification = tf.addN(parts.map((p) => p.classification)) as tf.Scalar;
      const box = tf.addN(parts.map((p) => p.box)) as tf.Scalar;
      const weight = this.config.boxLossWeight;
      return { total: (weight === 1 ? classification.add(box) : classification.add(box.mul(weight))) as tf.Scalar, classification, box };
    });
  }

  /**
   * Detections per image (the paper's inference: native post-processing), in the input's pixels.
   * `imageSizes` gives each image's [height, width] before batch padding (boxes are clipped to
   * it); default: the whole tensor.
   */
  detect(images: tf.Tensor4D, options: ops.PostprocessOptions & { imageSizes?: [number, number][] } = {}): ops.Detections[] {
    // As in a training step (Trainer.step): the forward pass's outputs are freed as it goes, so
    // V8 need not start a full collection each time they add up to 64 MB (one per inference of an
    // R50 at 600 px, whose marking then shared the two cores with the backbone's first layers).
    return deferredWhileReleasing(() => this.detectOnce(images, options));
  }

  private detectOnce(images: tf.Tensor4D, options: ops.PostprocessOptions & { imageSizes?: [number, number][] }): ops.Detections[] {
    const [b, h, w] = images.shape;
    const { imageSizes, ...post } = options;
    if (imageSizes !== undefined && (!Array.isArray(imageSizes) || imageSizes.length !== b)) {
      throw new RangeError(`imageSizes: expected ${b} [height, width] pairs`);
    }
    const { anchors, levels } = this.anchors(h, w);
    const sizes = imageSizes ?? Array.from({ length: b }, () => [h, w] as [number, number]);
    // The heads' outputs go to the post-processing kernel as tensors (on tfjs's cpu backend it
    // reads their arrays in place); only the detections are read back.
    const out = tf.tidy(() => {
      const heads = this.forward(images);
      const perLevel = levels.map((lv, i) => ({
        logits: heads[i].logits, deltas: heads[i].deltas,
        anchors: tf.tensor2d(anchors.subarray(lv.start * 4, (lv.start + lv.count) * 4), [lv.count, 4]),
      }));
      return postprocess(perLevel, sizes, post).flatMap((d) => [d.boxes, d.scores, d.classes]);
    });
    const dets: ops.Detections[] = [];
    for (let i = 0; i < out.length; i += 3) {
      dets.push({ boxes: out[i].dataSync() as Float32Array, scores: out[i + 1].dataSync() as Float32Array, classes: out[i + 2].dataSync() as Int32Array });
    }
    tf.dispose(out);
    return dets;
  }

  /** Disposes the model's variables; it cannot be used afterwards. */
  dispose(): void {
    this.params.dispose();
  }
}

/** A RetinaNet from a preset name (plus overrides) or a full config. */
export function createRetinaNet(config: RetinaNetConfig & { preset?: string }): RetinaNet {
  const { preset, ...rest } = config;
  if (preset !== undefined && !(preset in PRESETS)) {
    throw new RangeError(`preset: expected one of ${Object.keys(PRESETS).join(', ')}, got ${preset}`);
  }
  return new RetinaNet({ ...(preset ? PRESETS[preset] : {}), ...rest });
}
