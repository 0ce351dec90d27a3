// `retinanet detect`: detections of a checkpoint on image files, drawn (PNG) and listed (JSON).
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../data/atomic-write';
import { readImage, writePng } from '../data/image';
import { drawDetections } from '../draw';
import * as ops from '../ops';
import { CommandSpec, Flags, UsageError } from './args';
import { detectRgb } from '../model/detect-images';
import { Detector, INFERENCE_FLAGS, openDetector } from './infer';

export const DETECT: CommandSpec = {
  name: 'detect',
  summary: 'Detects objects in images: writes OUT/<name>.png with boxes, class names and scores drawn, and OUT/<name>.json.',
  positional: 'IMAGE...',
  flags: [
    ...INFERENCE_FLAGS,
    { name: 'out', type: 'string', value: 'DIR', default: 'runs/detect', help: 'output folder' },
    { name: 'score-threshold', type: 'number', min: 0, max: 1, default: 0.5, help: 'detections drawn and listed score above this' },
    { name: 'max-detections', type: 'int', min: 1, default: 100, help: 'detections per image' },
  ],
};

/** One detection as `detect` writes it: a COCO result (`category_id`, `bbox` [x, y, w, h] in source pixels, `score`) plus the class name. */
export interface DetectionRecord {
  category_id: number;
  name: string;
  bbox: [number, number, number, number];
  score: number;
}

/** Draws and writes the detections of one image; returns the JSON records. */
export function writeDetections(out: string, file: string, image: Parameters<typeof drawDetections>[0], det: ops.Detections, d: Pick<Detector, 'classNames' | 'categoryIds'>): DetectionRecord[] {
  const base = path.basename(file).replace(/\.[^.]*$/, '');
  writePng(path.join(out, `${base}.png`), drawDetections(image, det, { classNames: d.classNames, fontScale: image.width >= 640 ? 2 : 1 }));
  const round = (v: number): number => Math.round(v * 10) / 10;
  const records = Array.from(det.scores, (score, k): DetectionRecord => {
    const [x1, y1, x2, y2] = det.boxes.subarray(4 * k, 4 * k + 4);
    const label = det.classes[k];
    return { category_id: d.categoryIds[label], name: d.classNames[label], bbox: [round(x1), round(y1), round(x2 - x1), round(y2 - y1)], score: Math.round(score * 1e4) / 1e4 };
  });
  writeFileAtomic(path.join(out, `${base}.json`), JSON.stringify({ image: file, width: image.width, height: image.height, detections: records }, null, 1));
  return records;
}

export function detectFiles(d: Detector, files: string[], out: string, post: ops.PostprocessOptions): void {
  fs.mkdirSync(out, { recursive: true });
  for (const file of files) {
    const image = readImage(file);
    const [det] = detectRgb(d.model, [image], post, d.minSize, d.maxSize);
    const records = writeDetections(out, file, image, det, d);
    const names = records.slice(0, 6).map((r) => `${r.name} ${r.score.toFixed(2)}`).join(', ');
    console.log(`${file}: ${records.length} detections${names ? ` (${names}${records.length > 6 ? ', …' : ''})` : ''}`);
  }
}

export function detectCommand(flags: Flags): number {
  if (flags.positional.length === 0) throw new UsageError('detect', 'no image given');
  const d = openDetector(flags);
  try {
    detectFiles(d, flags.positional, flags.string('out'), { scoreThreshold: flags.number('score-threshold'), maxDetections: flags.int('max-detections') });
    console.log(`wrote ${flags.positional.length} pictures and JSON files to ${flags.string('out')}`);
  } finally {
    d.model.dispose();
  }
  return 0;
}
