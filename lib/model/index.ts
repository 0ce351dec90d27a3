export { RetinaNet, createRetinaNet, PRESETS } from './retinanet';
export type { RetinaNetConfig, LevelHeads, Losses } from './retinanet';
export { Trainer } from './trainer';
export type { TrainerOptions, StepResult } from './trainer';
export { saveWeights, loadWeights, exportWeights, importWeights } from './weights';
export { parseSafetensors, serializeSafetensors } from './safetensors';
export type { NamedArray } from './safetensors';
