// The class and box subnets (§4): 4 x [3x3 conv, ReLU] + a 3x3 conv to K·A (class) or 4·A (box),
// shared across levels, σ = 0.01 Gaussian init, the class output's bias −log((1 − π) / π).
import * as tf from '@tensorflow/tfjs';
import { Conv, Params } from './params';

export class Subnet {
  private readonly convs: Conv[];
  private readonly out: Conv;

  /** `outName`: torchvision's name of the last conv ('cls_logits' or 'bbox_reg'). */
  constructor(p: Params, name: string, outName: string, channels: number, depth: number, readonly outPerAnchor: number,
    readonly anchors: number, outBias: number) {
    this.convs = Array.from({ length: depth }, (_, i) => new Conv(p, `${name}.conv.${i}.0`, channels, channels, 3, 1, { bias: true, std: 0.01 }));
    this.out = new Conv(p, `${name}.${outName}`, channels, outPerAnchor * anchors, 3, 1,
      { bias: true, std: 0.01, biasInit: outBias });
  }

  /** One level [B, H, W, C] → [B, H·W·A, outPerAnchor] (anchor-major, as the anchors are ordered). */
  apply(x: tf.Tensor4D): tf.Tensor3D {
    let y = x;
    for (const conv of this.convs) y = conv.apply(y, 'relu');
    const o = this.out.apply(y);
    return o.reshape([o.shape[0], -1, this.outPerAnchor]);
  }
}
