// Progress of long work (training, evaluation, benchmarks) on stderr: a bar redrawn in place on a
// terminal; on a pipe or a CI log, one line every 10 % or every 15 s, so logs stay readable.
export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Print nothing (tests, --quiet). */
  quiet?: boolean;
  /** The count at which this run started (a resumed training run): ETA counts from there. */
  start?: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export class Progress {
  private done = 0;
  private readonly t0 = Date.now();
  private lastPrint = 0;
  private lastDecile = -1;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly start: number;

  constructor(readonly label: string, readonly total: number, private readonly options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.start = options.start ?? 0;
    this.done = this.start;
  }

  /** Sets the count to `done` and shows `fields` (e.g. loss, lr). */
  update(done: number, fields: Record<string, string> = {}): void {
    this.done = done;
    if (this.options.quiet) return;
    const now = Date.now();
    const elapsed = (now - this.t0) / 1000;
    const rate = (done - this.start) / Math.max(elapsed, 1e-9);
    const eta = done >= this.total ? 0 : (this.total - done) / rate;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ');
    const text = `${this.label} ${done}/${this.total} ${(100 * frac).toFixed(0).padStart(3)}%${extra ? `  ${extra}` : ''}  ${duration(elapsed)} elapsed, ETA ${duration(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile > this.lastDecile || now - this.lastPrint > 15000 || done >= this.total) {
      this.lastDecile = decile;
      this.lastPrint = now;
      this.stream.write(`${text}\n`);
    }
  }

  tick(fields: Record<string, string> = {}): void {
    this.update(this.done + 1, fields);
  }
}
