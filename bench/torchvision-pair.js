'use strict';
// bench/model.js's interleaved training steps: torchvision's retinanet_resnet50_fpn step (2
// images, SGD; bench/torchvision_model.py in `serve` mode, one persistent process) and ours, one
// step each in turn (bench/interleave.js): torchvision's own step took 6.1 and 7.4 s in two runs
// of 2026-12-06, ours 4.3-6.8 s, as the VM's slow spells fell.
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const { interleaved } = require('./interleave');

/**
 * ourStep(): runs one step of ours and returns its milliseconds; env: torchvision's environment. Returns { runs, oursMs, torchvisionMs,
 * torchvisionOverOurs } or { failed: message }.
 */
async function pairedTrainingSteps({ python, size, threads, ourStep, runs = 5, env = process.env }) {
  const child = spawn(python, [path.join(__dirname, 'torchvision_model.py'), String(size), String(threads), 'serve'], { stdio: ['pipe', 'pipe', 'pipe'], env });
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
    const r = await interleaved({ runs, ours: ourStep, theirs: theirStep });
    return { runs, oursMs: r.oursMs, torchvisionMs: r.theirsMs, torchvisionOverOurs: r.theirsOverOurs };
  } catch (e) {
    return { failed: e.message };
  } finally {
    child.stdin.end();
    await closed;
  }
}

module.exports = { pairedTrainingSteps };
