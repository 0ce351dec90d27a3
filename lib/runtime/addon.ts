// The addon, loaded once: a prebuild for this platform if present, else the local build.
import * as path from 'path';

/** The values `RETINANET_CPU_ISA` may take (checked when the addon loads); see cpuIsa(). */
export const CPU_ISAS = ['avx512', 'avx2', 'baseline'] as const;

/** Batched NMS's scalar parameters (maxOutput -1: all), read by name by the binding. */
export interface NmsParamsArg { iouThreshold: number; maxOutput: number; useScoreThreshold: boolean; scoreThreshold: number }

/** Matching's thresholds, read by name by the binding. */
export interface MatchParamsArg { fgIou: number; bgIou: number; allowLowQuality: boolean }

/** Post-processing's parameters, read by name by the binding. */
export interface PostprocessParamsArg {
  numClasses: number; scoreThreshold: number; topKPerLevel: number; nmsThreshold: number; maxDetections: number; weights: Float32Array;
}

/** A fused epilogue (activation codes: 0 linear, 1 relu, 2 relu6, 3 leakyrelu), read by name by the binding. */
export interface EpilogueArg { bias: Float32Array | null; activation: number; leakyreluAlpha: number; residual: Float32Array | null }

/** GroupNorm's sizes, read by name by the binding. */
export interface GroupNormShapeArg { batch: number; spatial: number; channels: number; groups: number }

/**
 * The binding's functions, as native/binding/*.cpp and native/accel/binding/*.cpp define them:
 * data arrays positional, every other parameter in one object read by name, the CUDA flag last.
 * Only lib/ops, lib/accel/ops and lib/runtime call these.
 */
export interface NativeAddon {
  numThreads(): number;
  setNumThreads(n: number): void;
  devices(): string[];
  cudaInfo(): { built: boolean; devices: number; error: string };
  fmaPeakGflops(): number;
  retainFreedMemory(): boolean;
  deferExternalMemory(open: boolean): [number, number];
  releaseBuffer(buffer: ArrayBuffer): boolean;
  cpuIsa(): { active: string; supported: string; bfloat16: boolean };
  focalLoss(
    logits: Float32Array, labels: Int32Array,
    params: { numClasses: number; star: boolean; useAlpha: boolean; alpha: number; gamma: number; beta: number; normalizer: number; grad: boolean },
    out?: Float32Array, cuda?: boolean,
  ): [number, Float32Array | undefined];
  generateAnchors(
    levels: Float64Array,
    params: { scales: Float32Array; aspectRatios: Float32Array; offset: number; torchvisionRounding: boolean },
    cuda?: boolean,
  ): Float32Array;
  boxIou(a: Float32Array, b: Float32Array, cuda?: boolean): Float32Array;
  encodeBoxes(anchors: Float32Array, boxes: Float32Array, params: { weights: Float32Array }, cuda?: boolean): Float32Array;
  decodeBoxes(
    anchors: Float32Array, deltas: Float32Array, params: { weights: Float32Array; clipHeight: number; clipWidth: number }, cuda?: boolean,
  ): Float32Array;
  matchAnchors(anchors: Float32Array, gtBoxes: Float32Array, params: MatchParamsArg, cuda?: boolean): [Int32Array, Float32Array];
  matchAnchorsBatch(anchors: Float32Array, gtBoxes: Float32Array[], params: MatchParamsArg, cuda?: boolean): [Int32Array, Float32Array];
  retinanetTargets(
    anchors: Float32Array, gtBoxes: Float32Array[], gtLabels: Int32Array[], params: MatchParamsArg & { weights: Float32Array }, cuda?: boolean,
  ): [Int32Array, Float32Array, Int32Array, Float64Array];
  batchedNms(
    boxes: Float32Array, scores: Float32Array, groups: Int32Array | null, params: NmsParamsArg, cuda?: boolean,
  ): Int32Array;
  batchedNmsAsync(
    boxes: Float32Array, scores: Float32Array, groups: Int32Array | null, params: NmsParamsArg, cuda?: boolean,
  ): Promise<Int32Array>;
  postprocess(
    levels: { logits: Float32Array; deltas: Float32Array; anchors: Float32Array }[], imageSizes: Float64Array, params: PostprocessParamsArg, cuda?: boolean,
  ): [Float32Array, Float32Array, Int32Array][];
  postprocessAsync(
    levels: { logits: Float32Array; deltas: Float32Array; anchors: Float32Array }[], imageSizes: Float64Array, params: PostprocessParamsArg, cuda?: boolean,
  ): Promise<[Float32Array, Float32Array, Int32Array][]>;
  conv2d(x: Float32Array, filter: Float32Array, shape: Float64Array, epilogue: EpilogueArg & { bfloat16: boolean; training: boolean }): Float32Array;
  conv2dLevels(xs: Float32Array[], filter: Float32Array, shapes: Float64Array, epilogue: EpilogueArg & { bfloat16: boolean }): Float32Array[];
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, shape: Float64Array): Float32Array;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, shape: Float64Array): Float32Array;
  batchMatMul(
    a: Float32Array, b: Float32Array,
    shape: { batchA: number; batchB: number; m: number; n: number; k: number; transposeA: boolean; transposeB: boolean },
    epilogue: EpilogueArg,
  ): Float32Array;
  groupNorm(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, shape: GroupNormShapeArg, eps: number,
  ): [Float32Array, Float32Array, Float32Array];
  groupNormBackward(
    dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array, shape: GroupNormShapeArg,
  ): [Float32Array, Float32Array, Float32Array];
  maxPool(x: Float32Array, shape: Float64Array): Float32Array;
  maxPoolGrad(x: Float32Array, dy: Float32Array, shape: Float64Array): Float32Array;
  resizeNearest(x: Float32Array, shape: Float64Array, rows: Int32Array, cols: Int32Array): Float32Array;
  resizeNearestGrad(dy: Float32Array, shape: Float64Array, rows: Int32Array, cols: Int32Array): Float32Array;
  binaryOp(op: number, a: Float32Array, aShape: Float64Array, b: Float32Array, bShape: Float64Array): Float32Array;
  unaryOp(op: number, x: Float32Array, alpha: number): Float32Array;
  reduceSum(x: Float32Array, outer: number, reduce: number, inner: number): Float32Array;
  sgdMomentumUpdate(
    param: Float32Array, grad: Float32Array, velocity: Float32Array,
    params: { learningRate: number; momentum: number; weightDecay: number; gradScale: number },
    paramOut: Float32Array | null, velocityOut: Float32Array | null,
  ): [Float32Array, Float32Array];
  sumOfSquares(x: Float32Array, start: number): number;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    // Checked before the addon reads it (once, at its first GEMM): a typo must not silently measure the default path.
    const isa = process.env.RETINANET_CPU_ISA;
    if (isa !== undefined && isa !== '' && !(CPU_ISAS as readonly string[]).includes(isa)) {
      throw new RangeError(`RETINANET_CPU_ISA: expected avx512, avx2 or baseline, got '${isa}'`);
    }
    addon = load(path.join(__dirname, '..', '..'));
    const env = process.env.RETINANET_NUM_THREADS;
    if (env !== undefined && /^\d+$/.test(env)) addon.setNumThreads(Number(env));
  }
  return addon;
}
