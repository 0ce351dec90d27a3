// A small SVG line chart with no dependencies: loss curves (iterations vs loss, several series,
// optionally log-scale) and PR curves. Output is a standalone SVG document as a string.

/** One line of a {@link lineChartSvg} chart: its legend name, points and style. */
export interface LineSeries {
  name: string;
  /** `[x, y]` pairs in drawing order. A non-finite value (or y <= 0 on a log axis) breaks the line. */
  points: readonly (readonly [number, number])[];
  /** Any SVG colour; default from a 10-colour palette in series order. */
  color?: string;
  dashed?: boolean;
}

/** What {@link lineChartSvg} draws: the series, titles, axis ranges and scale, legend corner and size. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly LineSeries[];
  /** Axis range; default: the data's range widened to whole ticks. Points outside are clipped. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  /** Logarithmic y axis (base 10), e.g. for losses. */
  logY?: boolean;
  /** Corner of the plot area that holds the legend; default `'top-right'`. */
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
  /** Pixels; defaults 640 × 420. */
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Text and attribute values go through this: series names come from users. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const px = (v: number): string => String(Math.round(v * 100) / 100);

interface Tick { value: number; label: string }

/** Step of 1, 2 or 5 × 10^k giving about `count` intervals over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

function stepDecimals(step: number): number {
  return Math.max(0, Math.min(12, -Math.floor(Math.log10(step) + 1e-9)));
}

function linearTicks(lo: number, hi: number, count: number): Tick[] {
  const step = niceStep(hi - lo, count);
  const decimals = stepDecimals(step);
  const ticks: Tick[] = [];
  // Integer multiples of the step, so labels never show 0.30000000000000004.
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    const value = i * step;
    ticks.push({ value, label: (Object.is(value, -0) ? 0 : value).toFixed(decimals) });
  }
  return ticks;
}

function powerLabel(v: number): string {
  return v >= 1e-4 && v < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential().replace('e+', 'e');
}

/** Ticks at 10^k; when the range spans less than two decades, also at 2 and 5 × 10^k. */
function logTicks(lo: number, hi: number): Tick[] {
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const mults = k1 - k0 <= 2 ? [1, 2, 5] : [1];
  const ticks: Tick[] = [];
  for (let k = k0; k <= k1; k++) {
    for (const m of mults) {
      const value = m * 10 ** k;
      if (value >= lo * (1 - 1e-9) && value <= hi * (1 + 1e-9)) ticks.push({ value, label: powerLabel(value) });
    }
  }
  return ticks;
}

function checkRange(name: string, r: unknown, positive: boolean): readonly [number, number] | undefined {
  if (r === undefined) return undefined;
  if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number') {
    throw new TypeError(`${name}: expected [min, max]`);
  }
  const [lo, hi] = r as [number, number];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new RangeError(`${name}: expected finite min < max, got [${lo}, ${hi}]`);
  }
  if (positive && lo <= 0) throw new RangeError(`${name}: a log axis needs min > 0, got ${lo}`);
  return [lo, hi];
}

function checkText(name: string, v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new TypeError(`${name}: expected a string`);
  return v;
}

function checkSeries(series: unknown): LineSeries[] {
  if (!Array.isArray(series)) throw new TypeError('series: expected an array of { name, points }');
  return series.map((s: unknown, i) => {
    if (typeof s !== 'object' || s === null) throw new TypeError(`series[${i}]: expected { name, points }`);
    const { name, points, color, dashed } = s as Record<string, unknown>;
    if (typeof name !== 'string') throw new TypeError(`series[${i}].name: expected a string`);
    if (!Array.isArray(points)) throw new TypeError(`series[${i}].points: expected an array of [x, y]`);
    points.forEach((p: unknown, j) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
        throw new TypeError(`series[${i}].points[${j}]: expected [x, y] numbers`);
      }
    });
    if (color !== undefined && typeof color !== 'string') throw new TypeError(`series[${i}].color: expected a string`);
    return { name, points: points as [number, number][], color: color as string | undefined, dashed: dashed === true };
  });
}

/** Data extent over usable values, or undefined when there are none. */
function extent(values: number[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : undefined;
}

function autoLinear(e: [number, number] | undefined): [number, number] {
  if (!e) return [0, 1];
  let [lo, hi] = e;
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad; hi += pad;
  }
  const step = niceStep(hi - lo, 5);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

function autoLog(e: [number, number] | undefined): [number, number] {
  if (!e) return [1, 10];
  const lo = 10 ** Math.floor(Math.log10(e[0]));
  let hi = 10 ** Math.ceil(Math.log10(e[1]));
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

/** Renders the chart; throws TypeError / RangeError on malformed options. */
export function lineChartSvg(options: LineChartOptions): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object');
  const series = checkSeries(options.series);
  const title = checkText('title', options.title);
  const xLabel = checkText('xLabel', options.xLabel);
  const yLabel = checkText('yLabel', options.yLabel);
  const logY = options.logY === true;
  if (options.legend !== undefined && !['top-right', 'top-left', 'bottom-right', 'bottom-left'].includes(options.legend)) {
    throw new RangeError(`legend: expected 'top-right', 'top-left', 'bottom-right' or 'bottom-left', got ${String(options.legend)}`);
  }
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 200 || v > 10000) {
      throw new RangeError(`${name}: expected a number in [200, 10000], got ${String(v)}`);
    }
  }
  const usable = ([x, y]: readonly [number, number]): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const pts = series.flatMap((s) => s.points.filter(usable));
  const xr = checkRange('xRange', options.xRange, false) ?? autoLinear(extent(pts.map((p) => p[0])));
  const yr = checkRange('yRange', options.yRange, logY)
    ?? (logY ? autoLog(extent(pts.map((p) => p[1]))) : autoLinear(extent(pts.map((p) => p[1]))));

  const left = 72, right = 20, top = title ? 40 : 20, bottom = xLabel ? 56 : 36;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const fy = (y: number): number => logY ? Math.log10(y) : y;
  const X = (x: number): number => left + ((x - xr[0]) / (xr[1] - xr[0])) * pw;
  const Y = (y: number): number => top + ph - ((fy(y) - fy(yr[0])) / (fy(yr[1]) - fy(yr[0]))) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${px(width)}" height="${px(height)}" fill="#ffffff"/>`);
  out.push(`<defs><clipPath id="plot-area"><rect x="${px(left)}" y="${px(top)}" width="${px(pw)}" height="${px(ph)}"/></clipPath></defs>`);
  if (title) out.push(`<text x="${px(left + pw / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);

  // Grid and ticks.
  const xt = linearTicks(xr[0], xr[1], 6);
  const yt = logY ? logTicks(yr[0], yr[1]) : linearTicks(yr[0], yr[1], 5);
  out.push('<g class="grid" stroke="#e0e0e0" stroke-width="1">');
  for (const t of xt) out.push(`<line x1="${px(X(t.value))}" y1="${px(top)}" x2="${px(X(t.value))}" y2="${px(top + ph)}"/>`);
  for (const t of yt) out.push(`<line x1="${px(left)}" y1="${px(Y(t.value))}" x2="${px(left + pw)}" y2="${px(Y(t.value))}"/>`);
  out.push('</g>');
  out.push('<g class="axes" stroke="#333333" stroke-width="1">');
  out.push(`<line x1="${px(left)}" y1="${px(top + ph)}" x2="${px(left + pw)}" y2="${px(top + ph)}"/>`);
  out.push(`<line x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(top + ph)}"/>`);
  for (const t of xt) out.push(`<line x1="${px(X(t.value))}" y1="${px(top + ph)}" x2="${px(X(t.value))}" y2="${px(top + ph + 5)}"/>`);
  for (const t of yt) out.push(`<line x1="${px(left - 5)}" y1="${px(Y(t.value))}" x2="${px(left)}" y2="${px(Y(t.value))}"/>`);
  out.push('</g>');
  out.push('<g class="tick-labels" fill="#333333">');
  for (const t of xt) out.push(`<text x="${px(X(t.value))}" y="${px(top + ph + 18)}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  for (const t of yt) out.push(`<text x="${px(left - 8)}" y="${px(Y(t.value) + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  out.push('</g>');
  if (xLabel) out.push(`<text x="${px(left + pw / 2)}" y="${px(height - 12)}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) out.push(`<text x="16" y="${px(top + ph / 2)}" text-anchor="middle" transform="rotate(-90 16 ${px(top + ph / 2)})">${escapeXml(yLabel)}</text>`);

  // Series: one path per unbroken run of usable points; a lone point becomes a dot.
  out.push('<g class="series" clip-path="url(#plot-area)" fill="none" stroke-width="1.8" stroke-linejoin="round">');
  series.forEach((s, i) => {
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const runs: (readonly [number, number])[][] = [[]];
    for (const p of s.points) {
      if (usable(p)) runs[runs.length - 1].push(p);
      else if (runs[runs.length - 1].length > 0) runs.push([]);
    }
    for (const run of runs) {
      if (run.length === 1) {
        out.push(`<circle cx="${px(X(run[0][0]))}" cy="${px(Y(run[0][1]))}" r="2.5" fill="${color}" stroke="none"/>`);
      } else if (run.length > 1) {
        const d = run.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(X(x))} ${px(Y(y))}`).join(' ');
        out.push(`<path d="${d}" stroke="${color}"${dash}><title>${escapeXml(s.name)}</title></path>`);
      }
    }
  });
  out.push('</g>');

  // Legend, top right inside the plot.
  if (series.length > 0) {
    const longest = Math.max(...series.map((s) => s.name.length));
    const lw = Math.min(pw - 10, 40 + 7 * longest);
    const lh = 8 + 18 * series.length;
    const corner = options.legend ?? 'top-right';
    const lx = corner.endsWith('left') ? left + 8 : left + pw - lw - 8;
    const ly = corner.startsWith('bottom') ? top + ph - lh - 8 : top + 8;
    out.push(`<g class="legend"><rect x="${px(lx)}" y="${px(ly)}" width="${px(lw)}" height="${px(lh)}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`);
    series.forEach((s, i) => {
      const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]);
      const yy = ly + 16 + 18 * i;
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
      out.push(`<line x1="${px(lx + 8)}" y1="${px(yy - 4)}" x2="${px(lx + 30)}" y2="${px(yy - 4)}" stroke="${color}" stroke-width="2"${dash}/>`);
      out.push(`<text x="${px(lx + 36)}" y="${px(yy)}">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
