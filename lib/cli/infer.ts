// The detector the inference commands open: a training checkpoint (its class names, ids and
// image sizes) or a weights file for a preset (detection itself: the library's detectRgb).
import { loadCheckpoint } from '../model/checkpoint';
import { anchorsPerLocation, createRetinaNet, PRESETS, RetinaNet } from '../model/retinanet';
import { defaultLabels } from '../model/detect-images';
import { importWeights, readWeightsFile } from '../model/weights';
import { FlagSpec, Flags } from './args';
import { InferencePrecision, setInferencePrecision } from '../runtime/cpu-isa';

export const INFERENCE_FLAGS: FlagSpec[] = [
  { name: 'checkpoint', type: 'string', value: 'FILE', default: 'runs/train/checkpoint.safetensors', help: 'checkpoint written by train' },
  { name: 'weights', type: 'string', value: 'FILE', help: 'instead of --checkpoint: a weights file (.pth as torch.save writes it, or safetensors) for --preset; the class count comes from the file (91: COCO\'s names)' },
  { name: 'preset', type: 'string', choices: Object.keys(PRESETS), default: 'retinanet_resnet50_fpn', help: 'the model of --weights' },
  { name: 'min-size', type: 'int', min: 8, help: 'shorter image side (default: the training run\'s)' },
  { name: 'max-size', type: 'int', min: 8, help: 'cap on the longer side (default: the training run\'s)' },
  { name: 'batch', type: 'int', min: 1, default: 4, help: 'images per forward pass' },
  { name: 'precision', type: 'string', choices: ['float32', 'bfloat16'], default: 'float32', help: 'the convolutions\' products: bfloat16 needs a CPU with AVX512-BF16 (faster, slightly less exact: docs/tfjs.md)' },
];

export interface Detector {
  model: RetinaNet;
  classNames: string[];
  /** The dataset's category id of each label (COCO results use them); 1..K when the checkpoint has none. */
  categoryIds: number[];
  minSize: number;
  maxSize: number;
}

/** A model of `preset` holding a weights file, its class count read from the class output's shape. */
function detectorFromWeights(file: string, preset: string): RetinaNet {
  const tensors = readWeightsFile(file);
  const cls = tensors.get('head.classification_head.cls_logits.weight');
  const anchors = anchorsPerLocation(PRESETS[preset]);
  if (!cls || cls.shape.length !== 4 || cls.shape[0] % anchors !== 0) {
    throw new RangeError(`${file}: no RetinaNet class output (head.classification_head.cls_logits.weight) to read the class count from`);
  }
  const model = createRetinaNet({ preset, numClasses: cls.shape[0] / anchors });
  try {
    importWeights(model, tensors);
  } catch (e) {
    model.dispose();
    throw new RangeError(`${file} does not fit --preset ${preset}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return model;
}

export function openDetector(flags: Flags): Detector {
  setInferencePrecision(flags.string('precision') as InferencePrecision);  // a RangeError here where the CPU lacks it
  const weights = flags.optionalString('weights');
  if (weights !== undefined) {
    const model = detectorFromWeights(weights, flags.string('preset'));
    return {
      model, ...defaultLabels(model.config.numClasses),
      minSize: flags.has('min-size') ? flags.int('min-size') : 800,
      maxSize: flags.has('max-size') ? flags.int('max-size') : 1333,
    };
  }
  const ck = loadCheckpoint(flags.string('checkpoint'));
  ck.trainer?.dispose();
  const e = ck.extra as { classNames?: string[]; categoryIds?: number[]; minSize?: number; maxSize?: number };
  const k = ck.model.config.numClasses;
  const fallback = defaultLabels(k);
  const classNames = Array.isArray(e.classNames) && e.classNames.length === k ? e.classNames : fallback.classNames;
  const categoryIds = Array.isArray(e.categoryIds) && e.categoryIds.length === k && e.categoryIds.every(Number.isInteger)
    ? e.categoryIds : fallback.categoryIds;
  return {
    model: ck.model, classNames, categoryIds,
    minSize: flags.has('min-size') ? flags.int('min-size') : e.minSize ?? 800,
    maxSize: flags.has('max-size') ? flags.int('max-size') : e.maxSize ?? 1333,
  };
}
