// IoU, box coding and anchors with plain tfjs ops.
import * as tf from '@tensorflow/tfjs';

function split(b: tf.Tensor2D): tf.Tensor2D[] {
  return tf.split(b, 4, 1) as tf.Tensor2D[];
}

/** IoU matrix `[na, nb]` by broadcasting. */
export function boxIouRef(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [ax1, ay1, ax2, ay2] = split(a);
    const [bx1, by1, bx2, by2] = split(b).map((t) => t.reshape([1, -1]));
    const areaA = ax2.sub(ax1).mul(ay2.sub(ay1));
    const areaB = bx2.sub(bx1).mul(by2.sub(by1));
    const w = tf.relu(tf.minimum(ax2, bx2).sub(tf.maximum(ax1, bx1)));
    const h = tf.relu(tf.minimum(ay2, by2).sub(tf.maximum(ay1, by1)));
    const inter = w.mul(h);
    const union = areaA.add(areaB).sub(inter);
    return tf.where(union.greater(0), inter.div(tf.maximum(union, 1e-30)), tf.zerosLike(inter)) as tf.Tensor2D;
  });
}

function centres(b: tf.Tensor2D) {
  const [x1, y1, x2, y2] = split(b);
  const w = x2.sub(x1);
  const h = y2.sub(y1);
  return { w, h, cx: x1.add(w.mul(0.5)), cy: y1.add(h.mul(0.5)) };
}

/** BoxCoder.encode. */
export function encodeBoxesRef(anchors: tf.Tensor2D, boxes: tf.Tensor2D, weights = [1, 1, 1, 1]): tf.Tensor2D {
  return tf.tidy(() => {
    const a = centres(anchors);
    const b = centres(boxes);
    return tf.concat([
      b.cx.sub(a.cx).div(a.w).mul(weights[0]), b.cy.sub(a.cy).div(a.h).mul(weights[1]),
      b.w.div(a.w).log().mul(weights[2]), b.h.div(a.h).log().mul(weights[3]),
    ], 1) as tf.Tensor2D;
  });
}

/** BoxCoder.decode (dw, dh clamped at log(1000/16)), optionally clipped to [height, width]. */
export function decodeBoxesRef(
  anchors: tf.Tensor2D, deltas: tf.Tensor2D, weights = [1, 1, 1, 1], clip?: [number, number],
): tf.Tensor2D {
  return tf.tidy(() => {
    const a = centres(anchors);
    const [dx, dy, dw, dh] = split(deltas);
    const limit = Math.log(1000 / 16);
    const cx = dx.div(weights[0]).mul(a.w).add(a.cx);
    const cy = dy.div(weights[1]).mul(a.h).add(a.cy);
    const hw = tf.exp(tf.minimum(dw.div(weights[2]), limit)).mul(a.w).mul(0.5);
    const hh = tf.exp(tf.minimum(dh.div(weights[3]), limit)).mul(a.h).mul(0.5);
    let out = tf.concat([cx.sub(hw), cy.sub(hh), cx.add(hw), cy.add(hh)], 1);
    if (clip) out = tf.minimum(tf.maximum(out, 0), tf.tensor1d([clip[1], clip[0], clip[1], clip[0]]));
    return out as tf.Tensor2D;
  });
}

/** torchvision-style anchors: rounded cell anchors shifted over each level's grid. */
export function generateAnchorsRef(height: number, width: number): tf.Tensor2D {
  return tf.tidy(() => {
    const levels: tf.Tensor[] = [];
    [32, 64, 128, 256, 512].forEach((base, i) => {
      const stride = 2 ** (i + 3);
      const cells: number[] = [];
      for (const r of [0.5, 1, 2]) {
        const hr = Math.fround(Math.sqrt(r));
        for (const s of [1, 2 ** (1 / 3), 2 ** (2 / 3)]) {
          const size = Math.trunc(base * s);
          const ws = Math.fround(Math.fround(1 / hr) * size) / 2, hs = Math.fround(hr * size) / 2;
          cells.push(...[-ws, -hs, ws, hs].map(roundHalfEven));
        }
      }
      const gh = Math.ceil(height / stride), gw = Math.ceil(width / stride);
      // torchvision's AnchorGenerator: each axis's stride is image side // feature map side.
      const sy = tf.range(0, gh).mul(Math.floor(height / gh)).reshape([gh, 1, 1]).tile([1, gw, 1]);
      const sx = tf.range(0, gw).mul(Math.floor(width / gw)).reshape([1, gw, 1]).tile([gh, 1, 1]);
      const shifts = tf.concat([sx, sy, sx, sy], 2).reshape([gh * gw, 1, 4]);
      levels.push(shifts.add(tf.tensor2d(cells, [9, 4]).reshape([1, 9, 4])).reshape([-1, 4]));
    });
    return tf.concat(levels, 0) as tf.Tensor2D;
  });
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
