// The PR curves of an evaluation as an SVG chart (precision vs recall at IoU 0.50 and 0.75,
// area all, 100 detections per image, averaged over categories).

import { lineChartSvg } from '../plot/line-chart';
import { formatFixed3 } from './summarize';
import type { CocoEvalResult } from './types';

/** Options of {@link prCurveSvg}: the chart's title and its size in pixels (default 640 × 420). */
export interface PrCurveSvgOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** The PR curves of an {@link evaluateCoco} result (IoU 0.50 and 0.75, area all, 100 detections) as a standalone SVG document. */
export function prCurveSvg(result: CocoEvalResult, options: PrCurveSvgOptions = {}): string {
  const pr: unknown = typeof result === 'object' && result !== null ? result.prCurve : undefined;
  if (typeof pr !== 'object' || pr === null || !Array.isArray((pr as Record<string, unknown>).curves)) {
    throw new TypeError('result: expected the result of evaluateCoco()');
  }
  const { recall, curves } = result.prCurve;
  const series = curves.map(({ iouThreshold, precision }) => {
    // AP at this threshold is the mean of the curve (the same number as stats[1] / stats[2]).
    const defined = precision.filter((p) => p > -1);
    const ap = defined.length ? defined.reduce((s, p) => s + p, 0) / defined.length : -1;
    return {
      name: `IoU=${iouThreshold.toFixed(2)} (AP ${formatFixed3(ap)})`,
      // Recall points with no category defined (-1) are left out rather than drawn at -1.
      points: recall.map((r, i) => [r, precision[i] > -1 ? precision[i] : NaN] as [number, number]),
    };
  });
  return lineChartSvg({
    title: options.title ?? 'Precision / recall (area all, maxDets 100)',
    xLabel: 'recall',
    yLabel: 'precision',
    series,
    xRange: [0, 1],
    yRange: [0, 1.01],
    legend: 'bottom-left', // PR curves fall towards the bottom right
    width: options.width,
    height: options.height,
  });
}
