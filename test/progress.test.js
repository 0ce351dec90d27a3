'use strict';
// The progress line as a user sees it: cut to the terminal's width, and not repeated in a log.
const test = require('ava');
const { Progress } = require('../dist/cli/progress');

function fakeStream(isTTY, columns) {
  const writes = [];
  return { writes, isTTY, columns, write: (s) => writes.push(s) };
}

test('on a terminal the line is cut to its width (a wrapped line cannot be redrawn in place)', (t) => {
  const stream = fakeStream(true, 60);
  const p = new Progress('train', 1000, { stream });
  p.update(1, { loss: '1.2345', cls: '0.1234', box: '0.5678', '|grad|': '3.21', lr: '0.0200' });
  const line = stream.writes[0].replace(/^\r/, '').replace(/\x1b\[K$/, '');
  t.true(line.length <= 60, line);
  t.regex(line, /^\[-+\] train 1\/1000 +0%.*…$/);
  const wide = fakeStream(true, 300);
  new Progress('train', 1000, { stream: wide }).update(1, { loss: '1.2345' });
  t.regex(wide.writes[0], /ETA/, 'nothing cut when it fits');
});

test('in a log (not a terminal) lines never come within 5 s of each other, except the last', (t) => {
  const stream = fakeStream(false, undefined);
  const p = new Progress('eval', 100, { stream });
  for (let i = 1; i <= 100; i++) p.update(i);
  t.is(stream.writes.length, 2, stream.writes.join(''));
  t.regex(stream.writes[0], /^eval 1\/100 +1%/);
  t.regex(stream.writes[1], /^eval 100\/100 100%/);
  const quiet = fakeStream(false, undefined);
  new Progress('eval', 10, { stream: quiet, quiet: true }).update(10);
  t.is(quiet.writes.length, 0);
});
