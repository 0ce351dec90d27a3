// The training loss as CSV (one row per iteration) and an SVG plot of it, both rewritten
// atomically so an interrupted run leaves readable files. On resume, and when training goes back
// to earlier weights after a divergence, rows from iterations that are run again are dropped
// first; the divergence itself is kept as a note on the next row.
import * as fs from 'fs';
import { writeFileAtomic } from '../data/atomic-write';
import { lineChartSvg } from '../plot/line-chart';
import type { StepResult } from '../model/trainer';

const COLUMNS = ['iteration', 'learning_rate', 'loss', 'classification', 'box', 'grad_norm', 'normalizer', 'foreground', 'seconds', 'note'];
const HEADER = COLUMNS.join(',');

export interface LossRow extends Omit<StepResult, 'recovered'> {
  seconds: number;
  /** What happened before this row (a recovery from divergence); no commas. */
  note?: string;
}

export class LossLog {
  private readonly rows: LossRow[] = [];
  private pendingNote = '';

  constructor(private readonly csvFile: string, private readonly svgFile: string, resumeAt = 0) {
    if (resumeAt > 0 && fs.existsSync(csvFile)) {
      const lines = fs.readFileSync(csvFile, 'utf8').split('\n');
      if (lines[0] !== HEADER) return;  // another version's log: started anew
      for (const line of lines.slice(1)) {
        const cells = line.split(',');
        const v = cells.slice(0, 9).map(Number);
        if (cells.length === COLUMNS.length && v.every(Number.isFinite) && v[0] < resumeAt) {
          this.rows.push({
            iteration: v[0], learningRate: v[1], loss: v[2], classification: v[3], box: v[4], gradNorm: v[5], normalizer: v[6],
            numForeground: v[7], seconds: v[8], ...(cells[9] ? { note: cells[9] } : {}),
          });
        }
      }
    }
  }

  add(row: LossRow): void {
    const note = [this.pendingNote, row.note ?? ''].filter((s) => s.length > 0).join('; ');
    this.pendingNote = '';
    this.rows.push({ ...row, ...(note ? { note } : {}) });
  }

  /** Drops the rows of iterations >= `iteration` (run again) and notes why on the next row. */
  rewind(iteration: number, note: string): void {
    const notes: string[] = [];
    while (this.rows.length > 0 && this.rows[this.rows.length - 1].iteration >= iteration) {
      const dropped = this.rows.pop();
      if (dropped?.note) notes.unshift(dropped.note);  // earlier recoveries stay on record
    }
    this.pendingNote = [...notes, this.pendingNote, note.replace(/[,\n]/g, ';')].filter((s) => s.length > 0).join('; ');
  }

  /** Writes the CSV and the plot (raw losses and a moving average). */
  flush(): void {
    const csv = [HEADER, ...this.rows.map((r) => [r.iteration, r.learningRate, r.loss, r.classification, r.box, r.gradNorm, r.normalizer,
      r.numForeground, r.seconds.toFixed(3), r.note ?? ''].join(','))];
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
        { name: 'box (L1 / smooth L1)', points: smooth('box') },
      ],
    }));
  }

  /** The rows so far (iteration order). */
  get entries(): readonly LossRow[] {
    return this.rows;
  }
}
