// The training loss as CSV (one row per iteration) and an SVG plot of it, both rewritten
// atomically so an interrupted run leaves readable files. On resume, rows from iterations that
// are run again are dropped first.
import * as fs from 'fs';
import { writeFileAtomic } from '../data/atomic-write';
import { lineChartSvg } from '../plot/line-chart';
import type { StepResult } from '../model/trainer';

const HEADER = 'iteration,learning_rate,loss,classification,box,grad_norm,seconds';

export interface LossRow extends StepResult {
  seconds: number;
}

export class LossLog {
  private readonly rows: LossRow[] = [];

  constructor(private readonly csvFile: string, private readonly svgFile: string, resumeAt = 0) {
    if (resumeAt > 0 && fs.existsSync(csvFile)) {
      for (const line of fs.readFileSync(csvFile, 'utf8').split('\n').slice(1)) {
        const v = line.split(',').map(Number);
        if (v.length === 7 && v.every(Number.isFinite) && v[0] < resumeAt) {
          this.rows.push({ iteration: v[0], learningRate: v[1], loss: v[2], classification: v[3], box: v[4], gradNorm: v[5], seconds: v[6] });
        }
      }
    }
  }

  add(row: LossRow): void {
    this.rows.push(row);
  }

  /** Writes the CSV and the plot (raw losses and a moving average). */
  flush(): void {
    const csv = [HEADER, ...this.rows.map((r) => [r.iteration, r.learningRate, r.loss, r.classification, r.box, r.gradNorm, r.seconds.toFixed(3)].join(','))];
    writeFileAtomic(this.csvFile, `${csv.join('\n')}\n`);
    const smooth = (key: 'loss' | 'classification' | 'box'): [number, number][] => {
      const w = Math.max(1, Math.round(this.rows.length / 50));
      return this.rows.map((r, i) => {
        const lo = Math.max(0, i - w + 1);
        let s = 0;
        for (let j = lo; j <= i; j++) s += this.rows[j][key];
        return [r.iteration, s / (i - lo + 1)];
      });
    };
    writeFileAtomic(this.svgFile, lineChartSvg({
      title: 'Training loss',
      xLabel: 'iteration',
      yLabel: 'loss',
      series: [
        { name: 'total', points: smooth('loss') },
        { name: 'classification (focal)', points: smooth('classification') },
        { name: 'box (smooth L1)', points: smooth('box') },
      ],
    }));
  }
}
