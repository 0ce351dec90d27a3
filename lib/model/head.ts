// The class and box subnets (§4): 4 x [3x3 conv, ReLU] + a 3x3 conv to K·A (class) or 4·A (box),
// shared across levels, σ = 0.01 Gaussian init, the class output's bias −log((1 − π) / π).
// With GroupNorm (torchvision's retinanet_resnet50_fpn_v2, and the small presets trained from
// scratch) each hidden conv has no bias and is followed by GroupNorm before the ReLU.
import * as tf from '@tensorflow/tfjs';
import { freeAsWeGo } from './free-as-we-go';
import { Conv, NormLayer, Params } from './params';
import { reluFast } from '../accel/conv2d-bias-act';
import { conv2dLevels } from '../accel/conv2d-levels';

/** Norm in the class / box subnets: 'none' (the paper, torchvision v1) or 'gn' (GroupNorm after each hidden conv, torchvision v2). */
export type HeadNorm = 'none' | 'gn';

/**
 * A class or box subnet: `depth` × [3x3 conv, (GroupNorm,) ReLU] and a 3x3 conv to outPerAnchor × anchors
 * channels, the same weights on every level.
 */
export class Subnet {
  private readonly convs: Conv[];
  private readonly norms: NormLayer[];
  private readonly out: Conv;

  /** `outName`: torchvision's name of the last conv ('cls_logits' or 'bbox_reg'). */
  constructor(p: Params, name: string, outName: string, channels: number, depth: number, readonly outPerAnchor: number,
    readonly anchors: number, outBias: number, norm: HeadNorm = 'none') {
    const gn = norm === 'gn';
    // torchvision names: conv.i.0 is the conv (a Conv2dNormActivation's first module), conv.i.1 its norm.
    this.convs = Array.from({ length: depth }, (_, i) => new Conv(p, `${name}.conv.${i}.0`, channels, channels, 3, 1, { bias: !gn, std: 0.01 }));
    this.norms = gn ? Array.from({ length: depth }, (_, i) => new NormLayer(p, `${name}.conv.${i}.1`, channels, 'gn')) : [];
    this.out = new Conv(p, `${name}.${outName}`, channels, outPerAnchor * anchors, 3, 1,
      { bias: true, std: 0.01, biasInit: outBias });
  }

  /** One level [B, H, W, C] → [B, H·W·A, outPerAnchor] (anchor-major, as the anchors are ordered). */
  apply(x: tf.Tensor4D): tf.Tensor3D {
    // One scope per level: its four 256-channel maps are freed when the level is done.
    return tf.tidy(() => {
      let y = x;
      this.convs.forEach((conv, i) => {
        const input = y;
        y = this.norms.length > 0 ? tf.tidy(() => reluFast(this.norms[i].apply(conv.apply(input)))) : conv.apply(input, 'relu');
        if (input !== x && freeAsWeGo()) input.dispose();  // outside a tape: each map once the next exists
      });
      const o = this.out.apply(y);
      return o.reshape([o.shape[0], -1, this.outPerAnchor]);
    });
  }

  /**
   * Every level at once, outside a gradient tape: each convolution is one kernel over all levels
   * (conv2dLevels: one Winograd filter transform, the small levels' tiles in the large ones'
   * products), each level's maps freed once the next exist. The levels' outputs as apply's.
   */
  applyLevels(xs: tf.Tensor4D[]): tf.Tensor3D[] {
    let ys = xs;
    const next = (made: tf.Tensor4D[]): void => {
      if (ys !== xs) tf.dispose(ys);
      ys = made;
    };
    this.convs.forEach((conv, i) => {
      const pad = conv.padding();
      if (this.norms.length === 0) {
        next(conv2dLevels({ xs: ys, filter: conv.w as tf.Tensor4D, bias: conv.b as tf.Tensor1D | undefined, strides: conv.stride, pad, activation: 'relu' }));
        return;
      }
      const z = conv2dLevels({ xs: ys, filter: conv.w as tf.Tensor4D, strides: conv.stride, pad });
      next(z.map((t) => tf.tidy(() => reluFast(this.norms[i].apply(t)))));
      tf.dispose(z);
    });
    const o = conv2dLevels({ xs: ys, filter: this.out.w as tf.Tensor4D, bias: this.out.b as tf.Tensor1D | undefined, strides: this.out.stride, pad: this.out.padding() });
    next(o);
    const out = o.map((t) => t.reshape([t.shape[0], -1, this.outPerAnchor]) as tf.Tensor3D);
    tf.dispose(o);
    return out;
  }
}
