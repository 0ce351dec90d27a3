'use strict';
// Runs the training example of docs/tfjs.md exactly as written (as a user would, by package name).
const test = require('ava');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const DOC = path.join(__dirname, '..', 'docs', 'tfjs.md');

test("the docs' training example runs and its loss goes down", (t) => {
  const readme = fs.readFileSync(DOC, 'utf8');
  const match = /<!-- example: training -->\s*```js\n([\s\S]*?)```/.exec(readme);
  t.truthy(match, 'docs/tfjs.md has the example');
  // Inside the package folder so `require('tfjs-retinanet')` resolves to this package.
  const file = path.join(__dirname, '.docs-example.js');
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

test("the docs' training example type-checks as strict TypeScript (imports instead of requires)", (t) => {
  const readme = fs.readFileSync(DOC, 'utf8');
  const code = /<!-- example: training -->\s*```js\n([\s\S]*?)```/.exec(readme)[1]
    .replace(/^const (\w+) = require\('([^']+)'\);$/gm, "import * as $1 from '$2';");
  t.regex(code, /^import \* as retinanet from 'tfjs-retinanet';$/m);
  const dir = fs.mkdtempSync(path.join(__dirname, '.docs-ts-'));
  try {
    fs.writeFileSync(path.join(dir, 'example.ts'), `${code}\nexport {};\n`);
    // node16 resolution: 'tfjs-retinanet' resolves to this package by its own name and exports, as installed.
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2020', lib: ['es2020', 'dom'], types: [], skipLibCheck: true },
      files: ['example.ts'],
    }));
    const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    } catch (e) {
      out = `${e.stdout}${e.stderr}`;
    }
    t.is(out, '', 'tsc reports nothing');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
