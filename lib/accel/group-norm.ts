// GroupNorm on tensors: one native kernel computes y with the per-group mean and rstd; its
// registered gradient runs a second kernel that gives dx, dγ and dβ in one native call.
import * as tf from '@tensorflow/tfjs';
import * as ops from './ops';
import { groupNormRef } from '../reference/group-norm';
import { nativeKernelOnActiveBackend, registerRetinanetKernel, runKernel, tensorArg } from '../tfjs/kernel';

export const GROUP_NORM = 'RetinanetGroupNorm';
export const GROUP_NORM_GRAD = 'RetinanetGroupNormGrad';

// Inputs { x [B, H, W, C], gamma [C], beta [C] }, attrs { groups, eps } → [y, mean [B, G], rstd [B, G]].
registerRetinanetKernel(GROUP_NORM, (ctx) => {
  const shape = ctx.shape('x') as unknown as ops.NhwcShape;
  const groups = ctx.attrs.groups as number;
  const r = ops.groupNorm(ctx.input('x', 'float32') as Float32Array, shape, groups,
    ctx.input('gamma', 'float32') as Float32Array, ctx.input('beta', 'float32') as Float32Array,
    { eps: ctx.attrs.eps as number });
  const stats = [shape[0], groups];
  return [
    ctx.output([...shape], 'float32', r.y, true),
    ctx.output(stats, 'float32', r.mean, true),
    ctx.output(stats, 'float32', r.rstd, true),
  ];
});

// Inputs { dy, x, mean, rstd, gamma }, attrs { groups } → [dx, dgamma, dbeta].
registerRetinanetKernel(GROUP_NORM_GRAD, (ctx) => {
  const shape = ctx.shape('x') as unknown as ops.NhwcShape;
  const f32 = (name: string) => ctx.input(name, 'float32') as Float32Array;
  const g = ops.groupNormBackward(f32('dy'), f32('x'), shape, ctx.attrs.groups as number, f32('mean'), f32('rstd'), f32('gamma'));
  return [
    ctx.output([...shape], 'float32', g.dx, true),
    ctx.output([shape[3]], 'float32', g.dgamma, true),
    ctx.output([shape[3]], 'float32', g.dbeta, true),
  ];
});

tf.registerGradient({
  kernelName: GROUP_NORM,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    // Only y is differentiated: mean and rstd are by-products for the backward pass.
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const [x, gamma, mean, rstd] = saved;
    // One native call for all three gradients, made here rather than inside the closures: the
    // tape calls each closure in its own tidy, which would dispose the two siblings a closure
    // computed lazily; tensors made here live in the backward pass's scope, which disposes
    // whichever of them no caller asked for.
    const [dx, dgamma, dbeta] = runKernel<tf.Tensor[]>(GROUP_NORM_GRAD, { dy, x, mean, rstd, gamma },
      { groups: (attrs as tf.NamedAttrMap).groups });
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
});

/**
 * GroupNorm (torch.nn.GroupNorm) on NHWC `x` [B, H, W, C] float32: the channels split into
 * `groups` groups of C/groups consecutive channels; per image and group, the mean and biased
 * variance over its H·W·C/groups values; `y = (x − mean) / sqrt(var + eps) · gamma[c] + beta[c]`.
 * Differentiable with respect to x, gamma and beta. Native on the `cpu` and `tensorflow`
 * backends; the same formula in plain tfjs ops elsewhere.
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  tensorArg('x', x, 'float32', 4);
  const c = x.shape[3];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    tensorArg(name, t, 'float32', 1);
    if (t.shape[0] !== c) throw new RangeError(`${name}: expected shape [${c}] (x's channels), got [${t.shape}]`);
  }
  if (typeof groups !== 'number') throw new TypeError(`groups: expected a number, got ${typeof groups}`);
  if (!Number.isInteger(groups) || groups < 1 || groups > c || c % groups !== 0) {
    throw new RangeError(`groups: expected an integer in [1, ${c}] that divides the ${c} channels, got ${groups}`);
  }
  if (typeof eps !== 'number') throw new TypeError(`eps: expected a number, got ${typeof eps}`);
  if (!(eps > 0 && Number.isFinite(eps))) throw new RangeError(`eps: expected a finite number > 0, got ${eps}`);
  if (!nativeKernelOnActiveBackend(GROUP_NORM)) return groupNormRef(x, gamma, beta, groups, eps);
  const [y, mean, rstd] = runKernel<tf.Tensor[]>(GROUP_NORM, { x, gamma, beta }, { groups, eps });
  // The tape keeps its own references to mean and rstd; the caller only sees y.
  mean.dispose();
  rstd.dispose();
  return y as tf.Tensor4D;
}
