// Model weights as safetensors files with torchvision's names and layouts: convolution weights
// are stored OIHW [out, in, kh, kw] as PyTorch keeps them (the model holds HWIO), everything else
// as is. So a torchvision RetinaNet state_dict saved with safetensors loads here, and back.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { NamedArray, parseSafetensors, serializeSafetensors, writeFileAtomic } from './safetensors';
import { RetinaNet } from './retinanet';
import { readPth } from './pth';

function permute4(data: Float32Array, shape: number[], order: number[]): NamedArray {
  const outShape = order.map((o) => shape[o]);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const out = new Float32Array(data.length);
  let i = 0;
  for (let a = 0; a < outShape[0]; a++) for (let b = 0; b < outShape[1]; b++) for (let c = 0; c < outShape[2]; c++) {
    for (let d = 0; d < outShape[3]; d++) {
      const idx = [a, b, c, d];
      let src = 0;
      for (let k = 0; k < 4; k++) src += idx[k] * strides[order[k]];
      out[i++] = data[src];
    }
  }
  return { shape: outShape, data: out };
}

/** HWIO → OIHW. */
export const toTorch = (d: Float32Array, s: number[]): NamedArray => permute4(d, s, [3, 2, 0, 1]);
/** OIHW → HWIO. */
export const fromTorch = (d: Float32Array, s: number[]): NamedArray => permute4(d, s, [2, 3, 1, 0]);

/** Every parameter (trainable or not) under torchvision's name and layout. */
export function exportWeights(model: RetinaNet): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, v] of model.params.vars) {
    const data = v.dataSync() as Float32Array;
    out.set(name, v.rank === 4 ? toTorch(data, v.shape) : { shape: v.shape.slice(), data: data.slice() });
  }
  return out;
}

/**
 * Loads named arrays into the model; every parameter must be present with its shape. `only`
 * limits the load to the parameters it accepts (the rest keep their values; `strict` then
 * concerns only names it accepts).
 */
export function importWeights(model: RetinaNet, tensors: Map<string, NamedArray>, { strict = true, only }: { strict?: boolean; only?: (name: string) => boolean } = {}): void {
  const problems: string[] = [];
  const updates: [tf.Variable, NamedArray][] = [];
  for (const [name, v] of model.params.vars) {
    if (only && !only(name)) continue;
    const t = tensors.get(name);
    if (!t) {
      problems.push(`missing ${name}`);
      continue;
    }
    const mine = v.rank === 4 ? fromTorch(t.data, t.shape) : t;
    if (mine.shape.length !== v.shape.length || mine.shape.some((d, i) => d !== v.shape[i])) {
      problems.push(`${name}: shape [${t.shape}] does not fit the model's [${v.rank === 4 ? toTorch(new Float32Array(v.size), v.shape).shape : v.shape}]`);
      continue;
    }
    updates.push([v, mine]);
  }
  if (strict) for (const name of tensors.keys()) if (!model.params.vars.has(name) && (!only || only(name))) problems.push(`unexpected ${name}`);
  if (problems.length) throw new RangeError(`weights do not fit this model: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  // Checked in full before anything is assigned: a bad file leaves the model as it was.
  for (const [v, t] of updates) tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
}

/** Saves the model's weights (atomically: a temporary file, then a rename). */
export function saveWeights(model: RetinaNet, file: string): void {
  writeFileAtomic(file, serializeSafetensors(exportWeights(model), { format: 'pt', producer: 'tfjs-retinanet' }));
}

/**
 * Named float32 arrays of a weights file: safetensors (saveWeights, or converted), or a PyTorch
 * checkpoint as torch.save writes it (.pth / .pt, zip or legacy format; integer tensors such as
 * BN's num_batches_tracked are left out). Told apart by their content, not their names.
 */
export function readWeightsFile(file: string): Map<string, NamedArray> {
  const bytes = fs.readFileSync(file);
  // safetensors: an 8-byte length, then its JSON header ('{'); anything else is torch.save's zip
  // archive or legacy pickle (the length's first byte alone can look like either).
  if (bytes.length > 8 && bytes[8] === 0x7b) return parseSafetensors(bytes).tensors;
  return readPth(bytes, file).tensors;
}

/** Loads weights saved by saveWeights, converted from torchvision, or a PyTorch state dict file. */
export function loadWeights(model: RetinaNet, file: string, options: { strict?: boolean } = {}): void {
  importWeights(model, readWeightsFile(file), options);
}

const BODY = 'backbone.body.';
const CLASS_OUTPUT = 'head.classification_head.cls_logits.';

/**
 * An ImageNet classifier's weights (torchvision's resnet18/34/50/101 state dict: conv1, bn1,
 * layer1-4; fc is left out) as the model's backbone body; the FPN and heads keep their
 * initialisation (the paper's). Every body parameter must be in the file with its shape.
 */
export function loadBackboneWeights(model: RetinaNet, file: string): void {
  const renamed = new Map<string, NamedArray>();
  for (const [name, t] of readWeightsFile(file)) {
    if (name.startsWith('fc.')) continue;
    renamed.set(name.startsWith(BODY) ? name : `${BODY}${name}`, t);
  }
  importWeights(model, renamed, { only: (name) => name.startsWith(BODY) });
}

/**
 * A detector's weights (a checkpoint, safetensors or .pth) as the starting point of a run on
 * other data: everything is loaded except, when the class count differs, the class output,
 * which keeps the prior's initialisation (σ = 0.01, bias -log((1 - π) / π)). Returns whether
 * the class output was kept.
 */
export function initFromWeights(model: RetinaNet, file: string): { classOutputKept: boolean } {
  const tensors = new Map([...readWeightsFile(file)].filter(([name]) => !name.startsWith('optimizer.')));
  const w = tensors.get(`${CLASS_OUTPUT}weight`);
  const mine = model.params.vars.get(`${CLASS_OUTPUT}weight`);
  const fits = w !== undefined && mine !== undefined && w.shape[0] === mine.shape[3];
  importWeights(model, tensors, { only: fits ? undefined : (name) => !name.startsWith(CLASS_OUTPUT) });
  return { classOutputKept: !fits };
}
