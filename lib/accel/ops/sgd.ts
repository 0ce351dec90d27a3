// SGD with momentum and weight decay on typed arrays (the Trainer's update): torch.optim.SGD's
// rule in one native, multithreaded pass, with the bits of the plain JavaScript loop.
import { native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/** The hyperparameters of {@link sgdMomentumUpdate} (torch.optim.SGD's). */
export interface SgdOptions {
  learningRate: number;
  /** Default 0.9. */
  momentum?: number;
  /** Default 1e-4 (L2, added to the gradient as torch does). */
  weightDecay?: number;
  /** The gradient is multiplied by this first (gradient clipping's factor); default 1. */
  gradScale?: number;
}

/** Where the update writes: by default new arrays; either may be the input itself (in place). */
export interface SgdOutputs {
  param?: Float32Array;
  velocity?: Float32Array;
}

/**
 * One SGD step for one parameter: `v' = momentum·v + (gradScale·g + weightDecay·p)`, then
 * `p' = p − learningRate·v'`, each in double and rounded to float32 once (v' before p' uses it),
 * as a JavaScript loop over the arrays computes it. Returns `[p', v']`. The inputs are left as
 * they are unless `out` names them as outputs (`{ velocity }` to keep the optimizer's state in
 * place, as the Trainer does).
 */
export function sgdMomentumUpdate(
  param: Float32Array, grad: Float32Array, velocity: Float32Array, options: SgdOptions, out: SgdOutputs = {},
): [Float32Array, Float32Array] {
  const o = v.options('options', options, ['learningRate', 'momentum', 'weightDecay', 'gradScale']);
  const p = v.float32Array('param', param);
  const g = v.float32Array('grad', grad);
  const vel = v.float32Array('velocity', velocity);
  for (const [name, a] of [['grad', g], ['velocity', vel]] as const) {
    if (a.length !== p.length) throw new RangeError(`${name}: expected ${p.length} elements (param's), got ${a.length}`);
  }
  const lr = v.number('learningRate', o.learningRate);
  const momentum = o.momentum === undefined ? 0.9 : v.number('momentum', o.momentum);
  const wd = o.weightDecay === undefined ? 1e-4 : v.number('weightDecay', o.weightDecay);
  const scale = o.gradScale === undefined ? 1 : v.number('gradScale', o.gradScale);
  if (out === null || typeof out !== 'object') throw new TypeError('out: expected an object');
  for (const key of ['param', 'velocity'] as const) {
    const a = out[key];
    if (a === undefined) continue;
    v.float32Array(`out.${key}`, a);
    if (a.length !== p.length) throw new RangeError(`out.${key}: expected ${p.length} elements (param's), got ${a.length}`);
  }
  return native().sgdMomentumUpdate(p, g, vel, { learningRate: lr, momentum, weightDecay: wd, gradScale: scale }, out.param ?? null, out.velocity ?? null);
}

/**
 * `start + Σ x[i]²` in double, in order: the bits of a JavaScript loop, so a norm over several
 * arrays chains exactly (`sumOfSquares(b, sumOfSquares(a))`). Non-finite values propagate, as in
 * the loop: a NaN anywhere, `start` included, gives NaN (a gradient norm must be able to say so).
 */
export function sumOfSquares(x: Float32Array, start = 0): number {
  if (typeof start !== 'number') throw new TypeError(`start: expected a number, got ${typeof start}`);
  return native().sumOfSquares(v.float32Array('x', x), start);
}
