#!/usr/bin/env node
// npm install: use a prebuilt binary (prebuilds/<platform>-<arch>/) or an existing local build when
// one loads; otherwise build from source.
'use strict';
const path = require('path');

const root = path.join(__dirname, '..');
if (!process.env.npm_config_build_from_source) {
  try {
    require('node-gyp-build')(root);
    process.exit(0);
  } catch {
    // none loads here: build it
  }
}
require('./build-native.js').main();
