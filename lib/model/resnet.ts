// ResNet backbone (torchvision layout and names: conv1/bn1, layer1…layer4), returning C3, C4, C5.
import * as tf from '@tensorflow/tfjs';
import { freeAsWeGo } from './free-as-we-go';
import { ConvNorm, Norm, Params } from './params';

export interface Block {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

export class BasicBlock implements Block {
  static readonly expansion = 1;
  private readonly c1: ConvNorm;
  private readonly c2: ConvNorm;
  private readonly down?: ConvNorm;

  constructor(p: Params, name: string, inC: number, width: number, stride: number, norm: Norm, lastGamma = 1) {
    this.c1 = new ConvNorm(p, `${name}.conv1`, `${name}.bn1`, inC, width, 3, stride, norm);
    this.c2 = new ConvNorm(p, `${name}.conv2`, `${name}.bn2`, width, width, 3, 1, norm, lastGamma);
    if (stride !== 1 || inC !== width) {
      this.down = new ConvNorm(p, `${name}.downsample.0`, `${name}.downsample.1`, inC, width, 1, stride, norm);
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.c1.apply(x, 'relu');
    // The identity after the first convolution, as before the fusion: the order the tape sums x's
    // gradients in (x also feeds the FPN at a stage's end) then stays the same, and so the bits.
    const identity = this.down ? this.down.apply(x) : x;
    // relu(bn2(conv2(y)) + identity): one fused convolution when the norm is folded.
    return this.c2.apply(y, 'relu', identity);
  }
}

export class Bottleneck implements Block {
  static readonly expansion = 4;
  private readonly convs: ConvNorm[];
  private readonly down?: ConvNorm;

  constructor(p: Params, name: string, inC: number, width: number, stride: number, norm: Norm, lastGamma = 1) {
    const out = width * 4;
    // torchvision v1.5: the stride sits on the 3x3 conv.
    this.convs = [
      new ConvNorm(p, `${name}.conv1`, `${name}.bn1`, inC, width, 1, 1, norm),
      new ConvNorm(p, `${name}.conv2`, `${name}.bn2`, width, width, 3, stride, norm),
      new ConvNorm(p, `${name}.conv3`, `${name}.bn3`, width, out, 1, 1, norm, lastGamma),
    ];
    if (stride !== 1 || inC !== out) {
      this.down = new ConvNorm(p, `${name}.downsample.0`, `${name}.downsample.1`, inC, out, 1, stride, norm);
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.convs[1].apply(this.convs[0].apply(x, 'relu'), 'relu');
    const identity = this.down ? this.down.apply(x) : x;  // after the convolutions: see BasicBlock
    // relu(bn3(conv3(y)) + identity): one fused convolution when the norm is folded.
    return this.convs[2].apply(y, 'relu', identity);
  }
}

const LAYOUT: Record<number, { blocks: number[]; bottleneck: boolean }> = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  34: { blocks: [3, 4, 6, 3], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
  101: { blocks: [3, 4, 23, 3], bottleneck: true },
};

/** The ResNet backbone (depth 18, 34, 50 or 101; torchvision's layout and names): images to C3, C4, C5. */
export class ResNet {
  private readonly stemConv: ConvNorm;
  private readonly stages: Block[][] = [];
  /** Channels of C3, C4, C5. */
  readonly channels: [number, number, number];

  /** `zeroInitResidual`: each block's last norm starts with scale 0, so blocks start as identities (torchvision's option). */
  constructor(private readonly p: Params, depth: number, widthMultiplier: number, norm: Norm, zeroInitResidual = false, prefix = 'backbone.body') {
    const layout = LAYOUT[depth];
    if (!layout) throw new RangeError(`depth: expected 18, 34, 50 or 101, got ${depth}`);
    const base = Math.max(8, Math.round(64 * widthMultiplier));
    this.stemConv = new ConvNorm(p, `${prefix}.conv1`, `${prefix}.bn1`, 3, base, 7, 2, norm);
    const expansion = layout.bottleneck ? 4 : 1;
    let inC = base;
    const outs: number[] = [];
    layout.blocks.forEach((count, s) => {
      const width = base * 2 ** s;
      const stage: Block[] = [];
      for (let i = 0; i < count; i++) {
        const name = `${prefix}.layer${s + 1}.${i}`;
        const stride = i === 0 && s > 0 ? 2 : 1;
        const g = zeroInitResidual ? 0 : 1;
        stage.push(layout.bottleneck ? new Bottleneck(p, name, inC, width, stride, norm, g) : new BasicBlock(p, name, inC, width, stride, norm, g));
        inC = width * expansion;
      }
      this.stages.push(stage);
      outs.push(inC);
    });
    this.channels = [outs[1], outs[2], outs[3]];
  }

  /** conv1, bn1, ReLU and the 3×3 / 2 max pool (stride 4). */
  stem(images: tf.Tensor4D): tf.Tensor4D {
    // While training, the images need no gradient: the stem convolution lets the tape skip it.
    const x = this.stemConv.apply(images, 'relu', undefined, this.p.training);
    // torchvision's MaxPool2d(3, 2, padding=1): padded cells never win (numeric pad 1, no -Infinity pad copy).
    return tf.tidy(() => tf.maxPool(x, 3, 2, 1));
  }

  /** images [B, H, W, 3] → [C3, C4, C5] (strides 8, 16, 32). */
  apply(images: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
    let x = this.stem(images);
    const feats: tf.Tensor4D[] = [];
    for (const stage of this.stages) {
      for (const block of stage) {
        const input = x;
        x = tf.tidy(() => block.apply(input));
        // Outside a tape, each block's input is freed once the block has run (C3 and C4 are
        // returned): the forward's peak is then a few blocks' outputs, not all of them.
        if (freeAsWeGo() && !feats.slice(1).includes(input)) input.dispose();
      }
      feats.push(x);
    }
    return [feats[1], feats[2], feats[3]];
  }
}
