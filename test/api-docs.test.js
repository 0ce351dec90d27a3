'use strict';
// The API reference is generated from the TSDoc comments (npm run docs:api, TypeDoc, into
// docs-api/): every public function, class, interface, type and method has a comment, every type a
// public signature mentions is itself documented, and every {@link} resolves. TypeDoc's
// validation with warnings as errors is the check.
const test = require('ava');
const path = require('path');
const { spawnSync } = require('child_process');

test('TypeDoc finds every public export documented and every link resolved', (t) => {
  const bin = path.join(__dirname, '..', 'node_modules', '.bin', 'typedoc');
  const r = spawnSync(bin, ['--emit', 'none', '--treatWarningsAsErrors'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
  t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  t.notRegex(`${r.stdout}${r.stderr}`, /warning|error/i);
});
