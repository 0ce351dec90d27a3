'use strict';
// Runs the README's training example exactly as written (as a user would, by package name).
const test = require('ava');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

test("the README's training example runs and its loss goes down", (t) => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const match = /<!-- example: training -->\s*```js\n([\s\S]*?)```/.exec(readme);
  t.truthy(match, 'README has the example');
  // Inside the package folder so `require('tfjs-retinanet')` resolves to this package.
  const file = path.join(__dirname, '.readme-example.js');
  fs.writeFileSync(file, match[1]);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    const losses = [...out.matchAll(/focal loss ([\d.]+)/g)].map((m) => Number(m[1]));
    t.is(losses.length, 5);
    for (let i = 1; i < losses.length; i++) t.true(losses[i] < losses[i - 1], out);
    t.regex(out, /anchors, \d+ foreground/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
