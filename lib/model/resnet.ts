// ResNet backbone (torchvision layout and names: conv1/bn1, layer1…layer4), returning C3, C4, C5.
import * as tf from '@tensorflow/tfjs';
import { Conv, Norm, NormLayer, Params } from './params';

interface Block {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

class BasicBlock implements Block {
  static readonly expansion = 1;
  private readonly conv1: Conv; private readonly bn1: NormLayer;
  private readonly conv2: Conv; private readonly bn2: NormLayer;
  private readonly down?: [Conv, NormLayer];

  constructor(p: Params, name: string, inC: number, width: number, stride: number, norm: Norm) {
    this.conv1 = new Conv(p, `${name}.conv1`, inC, width, 3, stride);
    this.bn1 = new NormLayer(p, `${name}.bn1`, width, norm);
    this.conv2 = new Conv(p, `${name}.conv2`, width, width, 3);
    this.bn2 = new NormLayer(p, `${name}.bn2`, width, norm);
    if (stride !== 1 || inC !== width) {
      this.down = [new Conv(p, `${name}.downsample.0`, inC, width, 1, stride), new NormLayer(p, `${name}.downsample.1`, width, norm)];
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.bn2.apply(this.conv2.apply(tf.relu(this.bn1.apply(this.conv1.apply(x)))));
    const identity = this.down ? this.down[1].apply(this.down[0].apply(x)) : x;
    return tf.relu(y.add(identity)) as tf.Tensor4D;
  }
}

class Bottleneck implements Block {
  static readonly expansion = 4;
  private readonly convs: [Conv, NormLayer][];
  private readonly down?: [Conv, NormLayer];

  constructor(p: Params, name: string, inC: number, width: number, stride: number, norm: Norm) {
    const out = width * 4;
    // torchvision v1.5: the stride sits on the 3x3 conv.
    this.convs = [
      [new Conv(p, `${name}.conv1`, inC, width, 1), new NormLayer(p, `${name}.bn1`, width, norm)],
      [new Conv(p, `${name}.conv2`, width, width, 3, stride), new NormLayer(p, `${name}.bn2`, width, norm)],
      [new Conv(p, `${name}.conv3`, width, out, 1), new NormLayer(p, `${name}.bn3`, out, norm)],
    ];
    if (stride !== 1 || inC !== out) {
      this.down = [new Conv(p, `${name}.downsample.0`, inC, out, 1, stride), new NormLayer(p, `${name}.downsample.1`, out, norm)];
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    this.convs.forEach(([conv, bn], i) => {
      y = bn.apply(conv.apply(y));
      if (i < 2) y = tf.relu(y);
    });
    const identity = this.down ? this.down[1].apply(this.down[0].apply(x)) : x;
    return tf.relu(y.add(identity)) as tf.Tensor4D;
  }
}

const LAYOUT: Record<number, { blocks: number[]; bottleneck: boolean }> = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  34: { blocks: [3, 4, 6, 3], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
  101: { blocks: [3, 4, 23, 3], bottleneck: true },
};

export class ResNet {
  private readonly conv1: Conv;
  private readonly bn1: NormLayer;
  private readonly stages: Block[][] = [];
  /** Channels of C3, C4, C5. */
  readonly channels: [number, number, number];

  constructor(p: Params, depth: number, widthMultiplier: number, norm: Norm, prefix = 'backbone.body') {
    const layout = LAYOUT[depth];
    if (!layout) throw new RangeError(`depth: expected 18, 34, 50 or 101, got ${depth}`);
    const base = Math.max(8, Math.round(64 * widthMultiplier));
    this.conv1 = new Conv(p, `${prefix}.conv1`, 3, base, 7, 2);
    this.bn1 = new NormLayer(p, `${prefix}.bn1`, base, norm);
    const expansion = layout.bottleneck ? 4 : 1;
    let inC = base;
    const outs: number[] = [];
    layout.blocks.forEach((count, s) => {
      const width = base * 2 ** s;
      const stage: Block[] = [];
      for (let i = 0; i < count; i++) {
        const name = `${prefix}.layer${s + 1}.${i}`;
        const stride = i === 0 && s > 0 ? 2 : 1;
        stage.push(layout.bottleneck ? new Bottleneck(p, name, inC, width, stride, norm) : new BasicBlock(p, name, inC, width, stride, norm));
        inC = width * expansion;
      }
      this.stages.push(stage);
      outs.push(inC);
    });
    this.channels = [outs[1], outs[2], outs[3]];
  }

  /** images [B, H, W, 3] → [C3, C4, C5] (strides 8, 16, 32). */
  apply(images: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
    let x = tf.relu(this.bn1.apply(this.conv1.apply(images)));
    // torchvision's MaxPool2d(3, 2, padding=1): padded cells never win (numeric pad 1, no -Infinity pad copy).
    x = tf.maxPool(x, 3, 2, 1);
    const feats: tf.Tensor4D[] = [];
    for (const stage of this.stages) {
      for (const block of stage) x = block.apply(x);
      feats.push(x);
    }
    return [feats[1], feats[2], feats[3]];
  }
}
