// Progress of long work (training, evaluation, benchmarks) on stderr: a bar redrawn in place on a
// terminal (cut to its width); on a pipe or a CI log, a line at each 10 % or after 15 s without
// one, never two within 5 s (but always the last), so logs stay readable.
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
  private lastPrint = -Infinity;
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
      // A line longer than the terminal would wrap, and \r would then redraw only its last row.
      const room = Math.max(10, (this.stream.columns || 100) - width - 4);
      const shown = text.length > room ? `${text.slice(0, room - 1)}…` : text;
      this.stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${shown}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
      return;
    }
    const decile = Math.floor(frac * 10);
    const due = decile > this.lastDecile || now - this.lastPrint > 15000;
    if (done >= this.total || (due && now - this.lastPrint >= 5000)) {
      this.lastDecile = decile;
      this.lastPrint = now;
      this.stream.write(`${text}\n`);
    }
  }

  tick(fields: Record<string, string> = {}): void {
    this.update(this.done + 1, fields);
  }
}
