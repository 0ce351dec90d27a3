// `retinanet eval`: COCO box AP of a checkpoint on a COCO-format dataset (pycocotools'
// definitions), the 12-line summary and per-class AP, a precision-recall plot and the results.
import * as fs from 'fs';
import * as path from 'path';
import { CocoDataset, cocoGroundTruth } from '../data/coco';
import { writeFileAtomic } from '../data/atomic-write';
import { evaluateCoco, formatSummary, prCurveSvg } from '../eval';
import type { CocoEvalResult, Detection } from '../eval';
import { CommandSpec, Flags } from './args';
import { DATASET_FLAGS, datasetPaths, ImageCache, openDataset } from './dataset';
import { detectRgb } from '../model/detect-images';
import { Detector, INFERENCE_FLAGS, openDetector } from './infer';
import { Progress } from './progress';

export const EVAL: CommandSpec = {
  name: 'eval',
  summary: 'COCO-style box AP of a checkpoint on a dataset; prints the AP table, writes OUT/pr.svg, OUT/detections.json and OUT/eval.json.',
  flags: [
    ...DATASET_FLAGS,
    ...INFERENCE_FLAGS,
    { name: 'out', type: 'string', value: 'DIR', default: 'runs/eval', help: 'output folder' },
    { name: 'score-threshold', type: 'number', min: 0, max: 1, default: 0.05, help: 'per-level score threshold (the paper: 0.05)' },
    { name: 'max-detections', type: 'int', min: 1, default: 100, help: 'detections per image' },
    { name: 'quiet', type: 'boolean', default: false, help: 'no progress output' },
  ],
};

export interface EvalRun {
  result: CocoEvalResult;
  detections: Detection[];
  seconds: number;
}

export function runEvaluation(d: Omit<Detector, 'categoryIds'>, dataset: CocoDataset, o: { batch: number; scoreThreshold: number; maxDetections: number; quiet: boolean }): EvalRun {
  const detections: Detection[] = [];
  const cache = new ImageCache(0);
  const progress = new Progress('eval', dataset.images.length, { quiet: o.quiet });
  const t0 = Date.now();
  for (let i = 0; i < dataset.images.length; i += o.batch) {
    const entries = dataset.images.slice(i, i + o.batch);
    const dets = detectRgb(d.model, entries.map((e) => cache.entry(e)), { scoreThreshold: o.scoreThreshold, maxDetections: o.maxDetections }, d.minSize, d.maxSize);
    dets.forEach((det, j) => {
      for (let k = 0; k < det.scores.length; k++) {
        const [x1, y1, x2, y2] = det.boxes.subarray(4 * k, 4 * k + 4);
        detections.push({
          imageId: entries[j].id, categoryId: dataset.categoryIdOf(det.classes[k]),
          bbox: [x1, y1, x2 - x1, y2 - y1], score: det.scores[k],
        });
      }
    });
    progress.update(Math.min(dataset.images.length, i + o.batch));
  }
  const result = evaluateCoco(cocoGroundTruth(dataset), detections, {
    imageIds: dataset.images.map((e) => e.id), categoryIds: dataset.categories.map((c) => c.id),
  });
  return { result, detections, seconds: (Date.now() - t0) / 1000 };
}

/** Per-class AP lines under the summary. */
export function perClassTable(result: CocoEvalResult, dataset: CocoDataset): string {
  const name = new Map(dataset.categories.map((c) => [c.id, c.name]));
  const fmt = (v: number): string => (v < 0 ? '   -  ' : (100 * v).toFixed(1).padStart(6));
  const rows = result.perCategory.map((c) => `  ${(name.get(c.categoryId) ?? String(c.categoryId)).padEnd(16)}${fmt(c.ap)}${fmt(c.ap50)}${fmt(c.ap75)}${String(c.numGroundTruth).padStart(8)}`);
  return [`  ${'class'.padEnd(16)}    AP  AP50  AP75  objects   (AP in %; the summary above in fractions)`, ...rows].join('\n');
}

/** Writes the PR plot, the COCO results and the numbers. */
export function writeEvalOutputs(out: string, run: EvalRun): void {
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(path.join(out, 'pr.svg'), prCurveSvg(run.result));
  writeFileAtomic(path.join(out, 'detections.json'), JSON.stringify(run.detections.map((x) => ({
    image_id: x.imageId, category_id: x.categoryId, bbox: x.bbox.map((v) => Math.round(v * 100) / 100), score: Math.round(x.score * 1e4) / 1e4,
  }))));
  const [ap, ap50, ap75] = run.result.stats;
  writeFileAtomic(path.join(out, 'eval.json'), JSON.stringify({ stats: run.result.stats, ap, ap50, ap75, perCategory: run.result.perCategory }, null, 1));
}

export function evalCommand(flags: Flags): number {
  const dataset = openDataset(datasetPaths('eval', flags));
  const d = openDetector(flags);
  try {
    if (d.model.config.numClasses !== dataset.categories.length) {
      throw new RangeError(`the checkpoint has ${d.model.config.numClasses} classes, the dataset ${dataset.categories.length}`);
    }
    // Labels are positions in the sorted category list: other names mean the AP pairs other classes.
    const names = dataset.categories.map((c) => c.name);
    if (!d.classNames.every((n, i) => n === names[i] || /^class \d+$/.test(n))) {
      console.error(`retinanet eval: warning: the checkpoint's classes (${d.classNames.join(', ')}) are not the dataset's ` +
        `(${names.join(', ')}); each checkpoint class is scored as the dataset's class in its position`);
    }
    const run = runEvaluation(d, dataset, {
      batch: flags.int('batch'), scoreThreshold: flags.number('score-threshold'), maxDetections: flags.int('max-detections'), quiet: flags.boolean('quiet'),
    });
    console.log(formatSummary(run.result.stats));
    console.log(perClassTable(run.result, dataset));
    const out = flags.string('out');
    writeEvalOutputs(out, run);
    console.log(`${dataset.images.length} images in ${run.seconds.toFixed(1)} s; wrote ${path.join(out, 'pr.svg')}, detections.json, eval.json`);
  } finally {
    d.model.dispose();
  }
  return 0;
}
