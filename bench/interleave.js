'use strict';
// Interleaved timing for bench/model.js's comparisons (bench/onnx-model.js: ONNX Runtime's
// inference; bench/torchvision-pair.js: torchvision's training step): a shared VM's slow spells
// last seconds to minutes, so two medians taken a minute apart can differ by the spell; pairs
// taken back to back see the same machine, and the median of their ratios is the comparison.
// 100 ms of quiet before each call, so that neither starts beside the other's threads still
// spinning (ONNX Runtime's used ~20 ms of CPU in the 500 ms after a run), and the order
// alternates pair by pair.

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quiet = () => new Promise((resolve) => setTimeout(resolve, 100));

/**
 * ours(): runs ours once, returns its milliseconds; theirs(): a promise of the peer's. Returns
 * { runs, oursMs, theirsMs, theirsOverOurs } (medians; the last over the pairs' ratios).
 */
async function interleaved({ runs, ours, theirs }) {
  const a = [], b = [];
  for (let i = 0; i < runs; i++) {
    await quiet();
    if (i % 2) {
      a.push(ours());
      await quiet();
      b.push(await theirs());
    } else {
      b.push(await theirs());
      await quiet();
      a.push(ours());
    }
  }
  return { runs, oursMs: median(a), theirsMs: median(b), theirsOverOurs: median(b.map((t, i) => t / a[i])) };
}

module.exports = { median, interleaved };
