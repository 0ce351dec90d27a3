// FPN P3–P7 as the paper's footnote 2 (torchvision names): P3–P5 from C3–C5 by a lateral 1x1, the
// top-down nearest upsampling and a 3x3; P6 by a 3x3 stride-2 conv on C5 (or on P5, as
// torchvision's v1 model); P7 by ReLU + 3x3 stride 2 on P6.
import * as tf from '@tensorflow/tfjs';
import { Conv, Params } from './params';

/** The feature pyramid: P3–P7 (strides 8 to 128, `channels` each) from the backbone's C3–C5. */
export class Fpn {
  private readonly inner: Conv[];
  private readonly layer: Conv[];
  private readonly p6: Conv;
  private readonly p7: Conv;

  constructor(p: Params, inChannels: [number, number, number], readonly channels: number, readonly p6FromP5: boolean,
    prefix = 'backbone.fpn') {
    this.inner = inChannels.map((c, i) => new Conv(p, `${prefix}.inner_blocks.${i}.0`, c, channels, 1, 1, { bias: true, std: Math.sqrt(1 / c) }));
    this.layer = inChannels.map((_, i) => new Conv(p, `${prefix}.layer_blocks.${i}.0`, channels, channels, 3, 1, { bias: true, std: Math.sqrt(1 / (9 * channels)) }));
    const p6In = p6FromP5 ? channels : inChannels[2];
    this.p6 = new Conv(p, `${prefix}.extra_blocks.p6`, p6In, channels, 3, 2, { bias: true, std: Math.sqrt(1 / (9 * p6In)) });
    this.p7 = new Conv(p, `${prefix}.extra_blocks.p7`, channels, channels, 3, 2, { bias: true, std: Math.sqrt(1 / (9 * channels)) });
  }

  /** [C3, C4, C5] → [P3, P4, P5, P6, P7], each [B, H, W, channels]. */
  apply([c3, c4, c5]: tf.Tensor4D[]): tf.Tensor4D[] {
    let top = this.inner[2].apply(c5);
    const p5 = this.layer[2].apply(top);
    const outs: tf.Tensor4D[] = [p5];
    for (const [i, c] of [[1, c4], [0, c3]] as const) {
      // Nearest upsampling to the lateral's size (odd sizes included), added to the lateral 1x1 as
      // its fused residual (one pass over P3's 75x75x256 at 600 px instead of a separate Add).
      const up = tf.image.resizeNearestNeighbor(top, [c.shape[1], c.shape[2]]);
      top = this.inner[i].apply(c, 'linear', up);
      outs.unshift(this.layer[i].apply(top));
    }
    const p6 = this.p6.apply(this.p6FromP5 ? p5 : c5);
    const p7 = this.p7.apply(tf.relu(p6));
    return [...outs, p6, p7];
  }
}
