// tf.variableGrads with torch's memory behaviour. tfjs's engine keeps every tensor a backward pass
// saved and every gradient it made until the whole pass ends, so a training step peaks at the
// end of its backward pass with all the activations and all their gradients live at once. Here
// each node's saved tensors and the gradients of its outputs are disposed as soon as the walk
// back has passed it (its every consumer is later on the tape, so already done), and the saved
// tensors of nodes off the path from the variables to the loss (a frozen stem, the targets) as
// soon as the forward pass ends. The arithmetic and its order are tfjs's: the same bits.
// tfjs 4.x engine internals (its own gradients() does the same steps); where they are missing,
// or for a gradient of a gradient, tf.variableGrads itself.
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape?: () => void;
  endTape?: () => void;
  scopedRun?: <T>(start: () => void, end: () => void, f: () => T) => T;
}

function engineInternals(): EngineInternals | null {
  const e = tf.engine() as unknown as EngineInternals;
  const ok = typeof e.startTape === 'function' && typeof e.endTape === 'function' && typeof e.scopedRun === 'function'
    && e.state !== undefined && typeof e.state.gradientDepth === 'number';
  return ok ? e : null;
}

// The nodes on a path from xs to y, with the inputs that do not come from xs left out (tfjs's
// getFilteredNodesXToY, which its bundle does not export).
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

function disposeSaved(node: TapeNode): void {
  if (node.saved) for (const t of node.saved) t.dispose();
}

/**
 * The gradients of `f()` (a scalar) with respect to the trainable variables in `varList` (all
 * trainable variables when omitted): what `tf.variableGrads` returns, with the same bits, at a
 * lower peak memory — each activation the backward pass saved, and each intermediate gradient,
 * is disposed as soon as the pass no longer needs it rather than when it ends.
 */
export function leanVariableGrads(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = engineInternals();
  if (engine === null || engine.state.gradientDepth > 0) return tf.variableGrads(f, varList);
  if (typeof f !== 'function') throw new TypeError('leanVariableGrads: f must be a function');
  const vars = varList ?? Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
  if (!Array.isArray(vars) || vars.some((v) => !(v instanceof tf.Variable))) throw new TypeError('leanVariableGrads: varList must be an array of tf.Variable');
  const xs = vars.filter((v) => v.trainable);
  if (xs.length === 0) throw new RangeError(`leanVariableGrads: none of the ${vars.length} variables is trainable`);

  let y: unknown;
  try {
    y = engine.scopedRun!(() => engine.startTape!(), () => engine.endTape!(), () => tf.tidy('forward', f));
    if (!(y instanceof tf.Tensor)) throw new TypeError('leanVariableGrads: f must return a tensor');
    if (y.rank !== 0) throw new RangeError(`leanVariableGrads: f must return a scalar, got shape [${y.shape}]`);
    const tape = engine.state.activeTape ?? [];
    const path = nodesFromXToY(tape, xs, y);
    const onPath = new Set(path.map((n) => n.id));
    for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node);

    const loss = y;
    const grads = tf.tidy('backward', () => {
      const xIds = new Set(xs.map((x) => x.id));
      const gradOf = new Map<number, tf.Tensor>();
      // How many entries of gradOf hold each tensor (a gradient may pass a dy through as it is).
      const holders = new Map<tf.Tensor, number>();
      const hold = (id: number, t: tf.Tensor): void => {
        gradOf.set(id, t);
        holders.set(t, (holders.get(t) ?? 0) + 1);
      };
      const drop = (id: number): void => {
        const t = gradOf.get(id);
        if (t === undefined) return;
        gradOf.delete(id);
        const n = (holders.get(t) ?? 1) - 1;
        if (n > 0) holders.set(t, n);
        else {
          holders.delete(t);
          t.dispose();
        }
      };
      hold(loss.id, tf.onesLike(loss));
      for (let i = path.length - 1; i >= 0; i--) {
        const node = path[i];
        if (typeof node.gradient !== 'function') throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        const dys = node.outputs.map((o) => gradOf.get(o.id) ?? null);
        const names = Object.keys(node.inputs);
        const dxs = tf.tidy(() => {
          const g = node.gradient!(dys);
          return names.map((name) => {
            if (!(name in g)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(g)}.`);
            const dx = g[name]();
            // A saved tensor passed back as a gradient would be disposed with its node.
            return dx.kept ? dx.clone() : dx;
          });
        });
        names.forEach((name, k) => {
          const dx = dxs[k];
          const x = node.inputs[name];
          if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
          if (!tf.util.arraysEqual(dx.shape, x.shape)) throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
          const cur = gradOf.get(x.id);
          if (cur === undefined) hold(x.id, dx);
          else {
            const sum = tf.add(cur, dx);
            drop(x.id);
            if (!dxs.includes(dx, k + 1) && !holders.has(dx)) dx.dispose();
            hold(x.id, sum);
          }
        });
        // Every consumer of this node's outputs came later on the tape: their gradients and the
        // node's saved tensors are done with.
        for (const o of node.outputs) if (!xIds.has(o.id)) drop(o.id);
        disposeSaved(node);
      }
      const named: tf.NamedTensorMap = {};
      for (const v of xs) {
        const g = gradOf.get(v.id);
        if (g !== undefined) named[v.name] = g;
      }
      return named;
    });
    if (Object.keys(grads).length === 0) {
      throw new RangeError(`leanVariableGrads: the loss depends on none of the ${xs.length} trainable variables`);
    }
    // As tf.variableGrads: a frozen variable that was asked for maps to null.
    if (varList !== undefined) for (const v of vars) if (!v.trainable) grads[v.name] = null as unknown as tf.Tensor;
    return { value: y as tf.Scalar, grads };
  } catch (e) {
    if (y instanceof tf.Tensor) y.dispose();
    throw e;
  } finally {
    // Also when f threw: tfjs would keep what the partial tape saved.
    for (const node of engine.state.activeTape ?? []) disposeSaved(node);
    engine.state.activeTape = null;
  }
}
