// GroupNorm written with plain tfjs ops (the formula the model used before the native kernel):
// test oracle, benchmark baseline, and the fallback on backends without the native kernel.
import * as tf from '@tensorflow/tfjs';

/**
 * torch.nn.GroupNorm on NHWC `x` `[B, H, W, C]`: per image and group of C/groups consecutive
 * channels, (x − mean) / sqrt(biased variance + eps), then · gamma[c] + beta[c]. Differentiable by tf.grad.
 */
export function groupNormRef(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps = 1e-5): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const g = x.reshape([b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const normed = g.sub(mean).div(variance.add(eps).sqrt()).reshape([b, h, w, c]) as tf.Tensor4D;
    return normed.mul(gamma).add(beta) as tf.Tensor4D;
  });
}
