// Training checkpoints: one safetensors file holding the weights (torchvision names, so `detect`
// and torchvision tools read it like a weights file), the momentum buffers under `optimizer.*`,
// and in its metadata the model config, the trainer options, the next iteration and any caller
// data (class names, data settings). Written atomically; a damaged file is a clear error.
import * as fs from 'fs';
import { NamedArray, parseSafetensors, serializeSafetensors, writeFileAtomic } from './safetensors';
import { RetinaNet, RetinaNetConfig } from './retinanet';
import { Trainer, TrainerOptions, TrainerScalars } from './trainer';
import { exportWeights, fromTorch, importWeights, toTorch } from './weights';

const FORMAT = 'tfjs-retinanet-checkpoint-1';
const OPTIMIZER = 'optimizer.momentum.';

/** What {@link loadCheckpoint} returns: a new model, its trainer if one was saved, and the caller's data. */
export interface Checkpoint {
  model: RetinaNet;
  /** Present when the checkpoint was saved with a trainer. */
  trainer?: Trainer;
  /** What the caller saved alongside (parsed JSON). */
  extra: Record<string, unknown>;
}

/** Saves model (+ trainer state) atomically: a temporary file, then a rename. */
export function saveCheckpoint(file: string, model: RetinaNet, trainer?: Trainer, extra: Record<string, unknown> = {}): void {
  const tensors = exportWeights(model);
  const metadata: Record<string, string> = {
    format: FORMAT,
    producer: 'tfjs-retinanet',
    config: JSON.stringify(model.config),
    extra: JSON.stringify(extra),
  };
  if (trainer) {
    const s = trainer.state();
    for (const [name, v] of s.velocities) tensors.set(OPTIMIZER + name, v.shape.length === 4 ? toTorch(v.data, v.shape) : v);
    metadata.trainer = JSON.stringify(trainer.options);
    metadata.iteration = String(s.iteration);
    metadata.trainerScalars = JSON.stringify(s.scalars);
  }
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

function json<T>(file: string, metadata: Record<string, string>, key: string): T {
  try {
    return JSON.parse(metadata[key]) as T;
  } catch {
    throw new RangeError(`${file}: checkpoint metadata '${key}' is missing or not JSON`);
  }
}

/** Loads a checkpoint from {@link saveCheckpoint}: a new model, and its trainer if one was saved. */
export function loadCheckpoint(file: string): Checkpoint {
  if (typeof file !== 'string') throw new TypeError('file: expected a path');
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(fs.readFileSync(file));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new RangeError(`${file}: not a readable checkpoint (${why})`);
  }
  const { tensors, metadata } = parsed;
  if (metadata.format !== FORMAT) throw new RangeError(`${file}: not a tfjs-retinanet checkpoint (metadata format is ${metadata.format ?? 'missing'})`);
  const config = json<RetinaNetConfig>(file, metadata, 'config');
  const extra = json<Record<string, unknown>>(file, metadata, 'extra');
  const weights = new Map<string, NamedArray>();
  const velocities = new Map<string, NamedArray>();
  for (const [name, t] of tensors) {
    if (name.startsWith(OPTIMIZER)) velocities.set(name.slice(OPTIMIZER.length), t.shape.length === 4 ? fromTorch(t.data, t.shape) : t);
    else weights.set(name, t);
  }
  const model = new RetinaNet(config);
  try {
    importWeights(model, weights);
    let trainer: Trainer | undefined;
    if (metadata.trainer !== undefined) {
      trainer = new Trainer(model, json<TrainerOptions>(file, metadata, 'trainer'));
      const scalars = metadata.trainerScalars === undefined ? undefined : json<TrainerScalars>(file, metadata, 'trainerScalars');
      trainer.restore({ iteration: Number(metadata.iteration), velocities, scalars });
    }
    return { model, trainer, extra };
  } catch (e) {
    model.dispose();
    throw new RangeError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
