// RetinaNet (§4): ResNet + FPN P3–P7 + shared class / box subnets, trained with the native
// targets and focal loss, detecting with the native post-processing.
import * as tf from '@tensorflow/tfjs';
import * as ops from '../ops';
import { sigmoidFocalLoss } from '../tfjs/focal-loss';
import { Fpn } from './fpn';
import { Subnet } from './head';
import { Norm, Params } from './params';
import { ResNet } from './resnet';

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
  /** 'frozen-bn' (for imported weights) or 'gn' (GroupNorm, from scratch). Default 'frozen-bn'. */
  norm?: Norm;
  /** P6 from P5 (torchvision's v1 model) instead of C5 (the paper). Default false. */
  p6FromP5?: boolean;
  /** π of the class subnet's initial bias. Default 0.01. */
  prior?: number;
  /** Anchor options (sizes, scales, aspect ratios…) beyond the image size. */
  anchors?: Omit<ops.AnchorOptions, 'height' | 'width' | 'levels'>;
  /** Focal loss α and γ. Defaults 0.25 and 2. */
  alpha?: number;
  gamma?: number;
  /** Box loss: smooth L1 with this β (0: plain L1). Default 0.1. */
  smoothL1Beta?: number;
  /** Seed of the initial weights. Default 1. */
  seed?: number;
}

export const PRESETS: Record<string, Omit<RetinaNetConfig, 'numClasses'>> = {
  'retinanet-r50-fpn': { depth: 50 },
  'retinanet-r101-fpn': { depth: 101 },
  // Small presets that train on a 2-core CPU in minutes (GroupNorm: trained from scratch).
  'retinanet-r18-small': { depth: 18, widthMultiplier: 0.25, channels: 64, headDepth: 2, norm: 'gn' },
  'retinanet-r18-tiny': { depth: 18, widthMultiplier: 0.125, channels: 32, headDepth: 1, norm: 'gn' },
};

export interface LevelHeads {
  logits: tf.Tensor3D;
  deltas: tf.Tensor3D;
}

export interface Losses {
  total: tf.Scalar;
  classification: tf.Scalar;
  box: tf.Scalar;
}

export class RetinaNet {
  readonly params: Params;
  readonly config: Required<Omit<RetinaNetConfig, 'anchors'>> & { anchors: RetinaNetConfig['anchors'] };
  readonly anchorsPerLocation: number;
  private readonly backbone: ResNet;
  private readonly fpn: Fpn;
  private readonly classHead: Subnet;
  private readonly boxHead: Subnet;
  private readonly anchorCache = new Map<string, ops.Anchors>();

  constructor(config: RetinaNetConfig) {
    const c = {
      depth: 50, widthMultiplier: 1, channels: 256, headDepth: 4, norm: 'frozen-bn' as Norm, p6FromP5: false,
      prior: 0.01, alpha: 0.25, gamma: 2, smoothL1Beta: 0.1, seed: 1, ...config,
    } as RetinaNet['config'];
    if (!Number.isInteger(c.numClasses) || c.numClasses < 1) throw new RangeError('numClasses: expected an integer >= 1');
    this.config = c;
    this.anchorsPerLocation = (c.anchors?.scales?.length ?? 3) * (c.anchors?.aspectRatios?.length ?? 3);
    this.params = new Params(c.seed);
    this.backbone = new ResNet(this.params, c.depth, c.widthMultiplier, c.norm);
    this.fpn = new Fpn(this.params, this.backbone.channels, c.channels, c.p6FromP5);
    const a = this.anchorsPerLocation;
    this.classHead = new Subnet(this.params, 'head.classification_head', 'cls_logits', c.channels, c.headDepth, c.numClasses, a,
      -Math.log((1 - c.prior) / c.prior));
    this.boxHead = new Subnet(this.params, 'head.regression_head', 'bbox_reg', c.channels, c.headDepth, 4, a, 0);
  }

  /** Raw head outputs per level P3–P7: logits [B, H·W·A, K], deltas [B, H·W·A, 4]. */
  forward(images: tf.Tensor4D): LevelHeads[] {
    const feats = this.fpn.apply(this.backbone.apply(images));
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
   * Losses of a batch: focal loss over all anchors normalized by the foreground count, and the box
   * loss (smooth L1) on the foreground anchors, same normalizer. Ground truth per image.
   */
  loss(images: tf.Tensor4D, gtBoxes: Float32Array[], gtLabels: Int32Array[]): Losses {
    const [b, h, w] = images.shape;
    if (gtBoxes.length !== b || gtLabels.length !== b) throw new RangeError(`gtBoxes, gtLabels: expected ${b} images`);
    const { anchors } = this.anchors(h, w);
    const t = ops.retinanetTargetsBatch(anchors, gtBoxes, gtLabels, { numClasses: this.config.numClasses });
    const n = anchors.length / 4;
    return tf.tidy(() => {
      const heads = this.forward(images);
      const logits = tf.concat(heads.map((x) => x.logits), 1);
      const deltas = tf.concat(heads.map((x) => x.deltas), 1);
      const labels = tf.tensor2d(t.labels, [b, n], 'int32');
      const classification = sigmoidFocalLoss(logits, labels, { alpha: this.config.alpha, gamma: this.config.gamma });
      const fg = tf.tensor3d(Float32Array.from(t.labels, (l) => (l >= 0 ? 1 : 0)), [b, n, 1]);
      const diff = tf.abs(deltas.sub(tf.tensor3d(t.boxTargets, [b, n, 4])));
      const beta = this.config.smoothL1Beta;
      // smooth L1 = 0.5 m² / β + (d − m) with m = min(d, β): one differentiable expression.
      const m = tf.minimum(diff, beta);
      const perCoord = beta > 0 ? m.square().mul(0.5 / beta).add(diff.sub(m)) : diff;
      const box = perCoord.mul(fg).sum().div(Math.max(1, t.numForeground)) as tf.Scalar;
      return { total: classification.add(box) as tf.Scalar, classification, box };
    });
  }

  /** Detections per image (the paper's inference: native post-processing). */
  detect(images: tf.Tensor4D, options: ops.PostprocessOptions = {}): ops.Detections[] {
    const [b, h, w] = images.shape;
    const { anchors, levels } = this.anchors(h, w);
    const flat = tf.tidy(() => this.forward(images).flatMap((x) => [x.logits, x.deltas]));
    const out = levels.map((lv, i) => ({
      logits: flat[2 * i].dataSync() as Float32Array,
      deltas: flat[2 * i + 1].dataSync() as Float32Array,
      anchors: anchors.subarray(lv.start * 4, (lv.start + lv.count) * 4),
    }));
    tf.dispose(flat);
    return ops.postprocess(out, this.config.numClasses, Array.from({ length: b }, () => [h, w] as [number, number]), options);
  }

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
