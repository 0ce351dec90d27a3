// Elementwise float32 arithmetic with broadcasting, and ReLU / step (the tfjs cpu Add, Sub,
// Multiply, RealDiv, Maximum, Minimum, Relu and Step kernels' engine). Results have tfjs's cpu
// bits: one float32 operation per element, JavaScript's Math.max / Math.min rules for NaN and
// signed zeros.
import { native } from '../../runtime/addon';
import * as v from '../../ops/validate';

/** The operations of {@link binaryOp}. */
export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'reluGrad';
/** The operations of {@link unaryOp}. */
export type UnaryOpName = 'relu' | 'step';

const BINARY: Record<BinaryOpName, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, reluGrad: 6 };
const UNARY: Record<UnaryOpName, number> = { relu: 0, step: 1 };

/** The shape's dimensions (integers in [0, 2^31)) and their product. */
function checkShape(name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected an array of dimensions`);
  if (shape.length > 64) throw new RangeError(`${name}: rank ${shape.length} is above 64`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2 ** 31 - 1) {
      throw new RangeError(`${name}[${i}]: expected an integer in [0, 2^31), got ${String(d)}`);
    }
    size *= d;
  }
  return size;
}

/**
 * The shape `a op b` has under tfjs's (NumPy's) broadcasting rules — shapes right-aligned, a
 * dimension of 1 stretches — or undefined when they do not broadcast.
 */
export function broadcastShape(aShape: readonly number[], bShape: readonly number[]): number[] | undefined {
  const r = Math.max(aShape.length, bShape.length);
  const pa = r - aShape.length, pb = r - bShape.length;
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = i < pa ? 1 : aShape[i - pa], db = i < pb ? 1 : bShape[i - pb];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return undefined;
  }
  return out;
}

function values(name: string, x: unknown, shapeName: string, shape: unknown): Float32Array {
  const arr = v.float32Array(name, x);
  const size = checkShape(shapeName, shape);
  if (arr.length !== size) throw new RangeError(`${name}: expected ${size} elements (${shapeName} [${String(shape)}]), got ${arr.length}`);
  return arr;
}

/**
 * `a op b` elementwise, broadcast (any shapes that broadcast: equal shapes, a scalar, a
 * per-channel vector, size-1 dimensions anywhere), row-major in the shape {@link broadcastShape}
 * gives. `op`: 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min', or 'reluGrad': `a · step(b)`, ReLU's
 * gradient `dy · (y > 0)` from its output `y = b`, with the bits of tfjs's `mul(dy, step(y))`.
 */
export function binaryOp(op: BinaryOpName, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[]): Float32Array {
  const code = BINARY[op];
  if (typeof op !== 'string' || code === undefined || !Object.prototype.hasOwnProperty.call(BINARY, op)) {
    throw new TypeError(`op: expected one of ${Object.keys(BINARY).join(', ')}, got ${String(op)}`);
  }
  const av = values('a', a, 'aShape', aShape);
  const bv = values('b', b, 'bShape', bShape);
  const shape = broadcastShape(aShape, bShape);
  if (shape === undefined) throw new RangeError(`aShape [${aShape}] and bShape [${bShape}] do not broadcast`);
  v.resultSize('out', shape.reduce((p, d) => p * d, 1));
  return native().binaryOp(code, av, Float64Array.from(aShape), bv, Float64Array.from(bShape));
}

/**
 * `op(x)` elementwise: 'relu' (Math.max(0, x): -0 gives +0) or 'step' (x > 0 ? 1 : alpha, NaN
 * stays NaN; alpha default 0, rounded to float32).
 */
export function unaryOp(op: UnaryOpName, x: Float32Array, alpha = 0): Float32Array {
  const code = UNARY[op];
  if (typeof op !== 'string' || code === undefined || !Object.prototype.hasOwnProperty.call(UNARY, op)) {
    throw new TypeError(`op: expected one of ${Object.keys(UNARY).join(', ')}, got ${String(op)}`);
  }
  if (typeof alpha !== 'number') throw new TypeError(`alpha: expected a number, got ${typeof alpha}`);
  return native().unaryOp(code, v.float32Array('x', x), alpha);
}
