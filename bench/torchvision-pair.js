'use strict';
// bench/model.js's interleaved training steps: torchvision's retinanet_resnet50_fpn step (2
// images, SGD; bench/torchvision_model.py in `serve` mode, one persistent process) and ours, one
// step each in turn, alternating which goes first, 100 ms of quiet before each. A shared VM's slow
// spells last seconds to minutes, so a median of ours and one of torchvision's taken minutes apart
// can differ by the spell (2026-12-06: torchvision's step 6.1 and 7.4 s in two runs, ours 4.3-6.8);
// pairs taken back to back see the same machine, and the median of their ratios compares them.
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quiet = () => new Promise((resolve) => setTimeout(resolve, 100));

/**
 * ourStep(): runs one step of ours and returns its milliseconds. Returns { runs, oursMs, torchvisionMs,
 * torchvisionOverOurs } or { failed: message }.
 */
async function pairedTrainingSteps({ python, size, threads, ourStep, runs = 5 }) {
  const child = spawn(python, [path.join(__dirname, 'torchvision_model.py'), String(size), String(threads), 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  const queued = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift().resolve(l) : queued.push(l)));
  let exited = false;
  const why = () => new Error(stderr.trim().split('\n').pop() || 'torchvision exited');
  const closed = new Promise((resolve) => child.on('close', resolve));
  closed.then(() => { exited = true; for (const w of waiting.splice(0)) w.reject(why()); });
  child.on('error', (e) => { stderr += `\n${e.message}`; });  // a missing python: said when 'close' comes
  const next = () => {
    if (queued.length) return Promise.resolve(queued.shift());
    if (exited) return Promise.reject(why());
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  try {
    const ready = JSON.parse(await next());
    if (!ready.ready) throw new Error('no ready line');
    const theirStep = async () => { child.stdin.write('step\n'); return JSON.parse(await next()).stepMs; };
    const ours = [], theirs = [];
    for (let i = 0; i < runs; i++) {
      await quiet();
      if (i % 2) {
        ours.push(ourStep());
        await quiet();
        theirs.push(await theirStep());
      } else {
        theirs.push(await theirStep());
        await quiet();
        ours.push(ourStep());
      }
    }
    return { runs, oursMs: median(ours), torchvisionMs: median(theirs), torchvisionOverOurs: median(theirs.map((t, i) => t / ours[i])) };
  } catch (e) {
    return { failed: e.message };
  } finally {
    child.stdin.end();
    await closed;
  }
}

module.exports = { pairedTrainingSteps };
