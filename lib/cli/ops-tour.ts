// `retinanet ops`: a tour of the native ops on one synthetic image, showing what each computed.
import { CommandSpec, Flags } from './args';
import * as ops from '../ops';
import { prng } from '../util/prng';

export interface OpsTourOptions {
  size: number;
  classes: number;
  objects: number;
  seed: number;
}

function ms(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(2)} ms`;
}

export function runOpsTour(o: OpsTourOptions, log: (line: string) => void = console.log): void {
  const random = prng(o.seed);
  log(`tfjs-retinanet demo: one synthetic ${o.size}x${o.size} image, ${o.objects} objects, ${o.classes} classes`);
  log(`native addon: ${ops.numThreads()} threads, devices: ${ops.devices().join(', ')}`);

  let t = process.hrtime.bigint();
  const { anchors, levels, anchorsPerLocation } = ops.generateAnchors({ height: o.size, width: o.size });
  const n = anchors.length / 4;
  log(`\ngenerateAnchors (${ms(t)}): ${n} anchors, ${anchorsPerLocation} per location`);
  for (const lv of levels) {
    const c = Array.from(anchors.subarray(lv.start * 4, lv.start * 4 + 4));
    log(`  P${lv.level}: ${lv.height}x${lv.width} x ${anchorsPerLocation} = ${lv.count}, stride ${lv.stride}, first [${c.join(', ')}]`);
  }

  const gt = new Float32Array(o.objects * 4);
  const gtLabels = new Int32Array(o.objects);
  for (let i = 0; i < o.objects; i++) {
    const w = 16 + random() * (o.size / 2);
    const h = 16 + random() * (o.size / 2);
    const x = random() * (o.size - w);
    const y = random() * (o.size - h);
    gt.set([x, y, x + w, y + h], i * 4);
    gtLabels[i] = Math.floor(random() * o.classes);
  }

  t = process.hrtime.bigint();
  const targets = ops.retinanetTargets(anchors, gt, gtLabels);
  let ignored = 0;
  for (const l of targets.labels) if (l === -2) ignored++;
  log(`\nretinanetTargets (${ms(t)}): ${targets.numForeground} foreground, ${ignored} ignored, ` +
    `${n - targets.numForeground - ignored} background anchors (IoU >= 0.5 / < 0.4)`);
  const perBox = new Int32Array(o.objects);
  for (const m of targets.matches) if (m >= 0) perBox[m]++;
  log(`  anchors per ground-truth box: ${Array.from(perBox).join(', ')} (low-quality matching gives every box at least one)`);

  // Head output at initialisation (paper §4.1: bias -log((1 - π) / π), π = 0.01), plus noise.
  const prior = -Math.log((1 - 0.01) / 0.01);
  const logits = new Float32Array(n * o.classes);
  for (let i = 0; i < logits.length; i++) logits[i] = prior + (random() - 0.5);
  t = process.hrtime.bigint();
  const fl = ops.sigmoidFocalLoss(logits, targets.labels, o.classes);
  log(`\nsigmoidFocalLoss fwd+bwd over ${n} x ${o.classes} logits (${ms(t)}): loss ${fl.loss.toFixed(4)} ` +
    `(normalized by ${targets.numForeground} foreground anchors)`);
  let gmax = 0;
  for (const g of fl.grad ?? []) gmax = Math.max(gmax, Math.abs(g));
  log(`  gradient: ${fl.grad?.length} values from the same pass, max |d loss / d logit| ${gmax.toExponential(3)}`);
  const ce = ops.sigmoidFocalLoss(logits, targets.labels, o.classes, { gamma: 0 });
  log(`  the same logits under alpha-balanced CE (gamma 0): ${ce.loss.toFixed(4)}: the focal term down-weights the easy negatives`);
  const star = ops.focalLossStar(logits, targets.labels, o.classes, { gamma: 2, beta: 1 });
  log(`  FL* (gamma 2, beta 1): ${star.loss.toFixed(4)}`);

  // Decode the exact targets back: the foreground anchors land on their ground-truth boxes.
  const fgIdx: number[] = [];
  targets.labels.forEach((l, i) => { if (l >= 0) fgIdx.push(i); });
  const fgAnchors = new Float32Array(fgIdx.length * 4);
  const fgDeltas = new Float32Array(fgIdx.length * 4);
  fgIdx.forEach((i, k) => {
    fgAnchors.set(anchors.subarray(i * 4, i * 4 + 4), k * 4);
    fgDeltas.set(targets.boxTargets.subarray(i * 4, i * 4 + 4), k * 4);
  });
  t = process.hrtime.bigint();
  const decoded = ops.decodeBoxes(fgAnchors, fgDeltas);
  const decodeTime = ms(t);
  const iou = ops.boxIou(decoded, gt);
  let worst = 1;
  fgIdx.forEach((i, k) => { worst = Math.min(worst, iou[k * o.objects + targets.matches[i]]); });
  log(`\ndecodeBoxes of the foreground targets (${decodeTime}): IoU with their ground truth >= ${worst.toFixed(6)}`);
}

export const OPS_TOUR: CommandSpec = {
  name: 'ops',
  summary: 'A tour of the native ops on one synthetic image, printing what each computed.',
  flags: [
    { name: 'size', type: 'int', min: 8, default: 600, help: 'image side in pixels' },
    { name: 'classes', type: 'int', min: 1, default: 80, help: 'number of classes' },
    { name: 'objects', type: 'int', min: 0, default: 12, help: 'ground-truth boxes' },
    { name: 'seed', type: 'int', min: 0, default: 1, help: 'random seed' },
  ],
};

export function opsTourCommand(flags: Flags): number {
  runOpsTour({ size: flags.int('size'), classes: flags.int('classes'), objects: flags.int('objects'), seed: flags.int('seed') });
  return 0;
}
