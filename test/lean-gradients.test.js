'use strict';
// leanVariableGrads (lib/tfjs/lean-gradients.ts): tf.variableGrads's gradients to the bit, with
// each saved activation and intermediate gradient disposed once the backward pass has passed it.
const test = require('ava');
const tf = require('@tensorflow/tfjs');
const R = require('..');

const values = (n, seed) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed + i * 0.37) * 0.5;
  return a;
};
const sameBits = (t, got, want, what) => {
  t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: the same variables`);
  for (const name of Object.keys(want)) {
    if (want[name] === null) {
      t.is(got[name], null, `${what}: ${name} is null in both`);
      continue;
    }
    const a = got[name].dataSync();
    const b = want[name].dataSync();
    t.is(a.length, b.length);
    const i = a.findIndex((v, k) => !Object.is(v, b[k]));
    t.is(i, -1, `${what}: ${name}[${i}] ${a[i]} instead of ${b[i]}`);
  }
};

// A small net with what the backward walk must get right: a convolution through the native
// kernels (conv2dBiasAct's custom gradient), a variable used twice (accumulated), a branch that
// passes its gradient through (add), a two-output op (split), a frozen variable, and a part
// computed from no variable at all.
function makeNet(tag) {
  const v = (name, shape, seed, trainable = true) => tf.variable(tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape), trainable, `${tag}/${name}`);
  const w = {
    f1: v('f1', [3, 3, 3, 8], 1), b1: v('b1', [8], 2),
    f2: v('f2', [3, 3, 8, 8], 3), b2: v('b2', [8], 4),
    frozen: v('frozen', [1, 1, 4, 4], 5, false),
    dense: v('dense', [8, 5], 6), scale: v('scale', [], 7),
  };
  const x = tf.tensor4d(values(2 * 9 * 9 * 3, 8), [2, 9, 9, 3]);
  const loss = () => {
    const h1 = R.conv2dBiasAct({ x, filter: w.f1, bias: w.b1, pad: 'same', activation: 'relu' });
    const h2 = R.conv2dBiasAct({ x: h1, filter: w.f2, bias: w.b2, pad: 'same', activation: 'relu' });
    const sum = tf.add(h1, h2); // h1 reaches the loss twice
    const [a, b] = tf.split(sum, 2, 3);
    const side = tf.conv2d(tf.relu(b), w.frozen, 1, 'same'); // through a frozen weight
    const pooled = tf.mean(tf.concat([a, side], 3), [1, 2]);
    const logits = tf.matMul(pooled, w.dense);
    const noise = tf.mean(tf.square(x)); // from no variable
    return tf.add(tf.mul(tf.mean(tf.square(logits)), tf.mul(w.scale, w.scale)), noise);
  };
  return { w, x, loss, dispose: () => tf.dispose([...Object.values(w), x]) };
}

test('the gradients and loss are tf.variableGrads\'s to the bit, and nothing is left behind', (t) => {
  const net = makeNet('lean-bits');
  const vars = Object.values(net.w);
  const before = tf.memory().numTensors;
  const want = tf.variableGrads(net.loss, vars);
  const wantCount = tf.memory().numTensors;
  const wantLoss = want.value.dataSync()[0];
  tf.dispose([want.value, want.grads]);
  t.is(tf.memory().numTensors, before);
  const got = R.leanVariableGrads(net.loss, vars);
  t.is(tf.memory().numTensors, wantCount, 'the same tensors live afterwards: the loss and one gradient per variable');
  t.true(Object.is(got.value.dataSync()[0], wantLoss));
  const again = tf.variableGrads(net.loss, vars);
  sameBits(t, got.grads, again.grads, 'lean vs tfjs');
  t.is(got.grads['lean-bits/frozen'], null, 'a frozen variable asked for maps to null, as in tfjs');
  tf.dispose([got.value, got.grads, again.value, again.grads]);
  t.is(tf.memory().numTensors, before);
  net.dispose();
});

test('all trainable variables when no list is given, as tf.variableGrads', (t) => {
  const net = makeNet('lean-all');
  const got = R.leanVariableGrads(net.loss);
  const want = tf.variableGrads(net.loss);
  sameBits(t, got.grads, want.grads, 'no varList');
  tf.dispose([got.value, got.grads, want.value, want.grads]);
  net.dispose();
});

// A chain of layers whose gradient notes the bytes live when it runs. Both walks start with every
// layer's saved input live; tfjs then keeps them, and every gradient it made, until its pass
// ends, while the lean walk frees each layer's share as it passes it.
test('the bytes live during the backward pass shrink as it goes instead of growing', (t) => {
  const depth = 24;
  const n = 1 << 16; // 256 KiB a tensor
  const w = tf.variable(tf.tensor1d(values(n, 9)), true, 'lean-chain/w');
  const seen = [];
  const layer = tf.customGrad((x, save) => {
    save([x]);
    return { value: tf.sin(x), gradFunc: (dy, [xs]) => { seen.push(tf.memory().numBytes); return tf.mul(dy, tf.cos(xs)); } };
  });
  const f = () => {
    let h = tf.mul(w, 1);
    for (let i = 0; i < depth; i++) h = layer(h);
    return tf.sum(h);
  };
  const base = tf.memory().numBytes;
  const live = (grads) => {
    seen.length = 0;
    const r = grads(f, [w]);
    tf.dispose([r.value, r.grads]);
    t.is(seen.length, depth);
    // In tensors of n floats: at the peak, and at the first layer's gradient (the pass's end).
    return { peak: (Math.max(...seen) - base) / (4 * n), end: (seen[depth - 1] - base) / (4 * n) };
  };
  const tfjs = live(tf.variableGrads);
  const lean = live(R.leanVariableGrads);
  t.true(tfjs.end >= 2 * depth, `tfjs holds ${tfjs.end} tensors at the end of its pass`);
  t.true(lean.end <= 4, `the lean walk holds ${lean.end} at the end of its pass (tfjs ${tfjs.end})`);
  t.true(lean.peak <= depth + 4, `the lean walk's peak: ${lean.peak} tensors (tfjs ${tfjs.peak})`);
  w.dispose();
});

test('inside another gradient it defers to tf.variableGrads, and the outer gradient is right', (t) => {
  const x = tf.variable(tf.scalar(0.7), true, 'lean-nested/x');
  // d/dx of (d/dx x³) = 6x, through a lean gradient taken inside tf.grad.
  const outer = tf.grad((xv) => {
    const { value, grads } = R.leanVariableGrads(() => tf.pow(x, 3), [x]);
    value.dispose();
    return tf.mul(grads['lean-nested/x'], xv);
  });
  const g = outer(tf.scalar(2));
  t.true(Math.abs(g.dataSync()[0] - 3 * 0.7 * 0.7) < 1e-6);
  tf.dispose([g, x]);
});

test('bad input: a clear error, and nothing left on the tape or in memory', (t) => {
  const x = tf.variable(tf.tensor1d([1, 2, 3]), true, 'lean-bad/x');
  const frozen = tf.variable(tf.tensor1d([1, 2, 3]), false, 'lean-bad/frozen');
  const stray = tf.scalar(1);
  const before = tf.memory().numTensors;
  t.throws(() => R.leanVariableGrads('nope', [x]), { instanceOf: TypeError, message: /f must be a function/ });
  t.throws(() => R.leanVariableGrads(() => tf.sum(x), [x, stray]), { instanceOf: TypeError, message: /array of tf.Variable/ });
  t.throws(() => R.leanVariableGrads(() => tf.sum(frozen), [frozen]), { instanceOf: RangeError, message: /none of the 1 variables is trainable/ });
  t.throws(() => R.leanVariableGrads(() => tf.mul(x, 2), [x]), { instanceOf: RangeError, message: /must return a scalar, got shape \[3\]/ });
  t.throws(() => R.leanVariableGrads(() => tf.sum(frozen), [x]), { instanceOf: RangeError, message: /depends on none of the 1 trainable/ });
  t.throws(() => R.leanVariableGrads(() => { tf.exp(tf.mul(x, 2)); throw new Error('inside f'); }, [x]), { message: 'inside f' });
  t.is(tf.memory().numTensors, before);
  t.is(tf.engine().state.activeTape, null);
  // And a good call still works afterwards.
  const { value, grads } = R.leanVariableGrads(() => tf.sum(tf.square(x)), [x]);
  t.deepEqual(Array.from(grads['lean-bad/x'].dataSync()), [2, 4, 6]);
  tf.dispose([value, grads, x, frozen, stray]);
});
