#!/usr/bin/env node
// The `retinanet` command: one table of commands; each parses its own flags (and --help).
// The native cpu kernels (convolutions, matmul, pooling) go over tfjs's own on import.
import '../accel';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { commandHelp, CommandSpec, Flags, parseFlags, UsageError } from './args';
import { BENCH, benchCommand } from './bench';
import { CONVERT, convertCommand } from './convert';
import { DEMO, demoCommand } from './demo';
import { DETECT, detectCommand } from './detect';
import { EVAL, evalCommand } from './eval';
import { MAKE_DATASET, makeDatasetCommand } from './make-dataset';
import { OPS_TOUR, opsTourCommand } from './ops-tour';
import { TRAIN, trainCommand } from './train';
import { relaxGarbageCollection, retainFreedMemory } from '../ops';

const COMMANDS: [CommandSpec, (flags: Flags) => number | Promise<number>][] = [
  [DEMO, demoCommand],
  [MAKE_DATASET, makeDatasetCommand],
  [TRAIN, trainCommand],
  [EVAL, evalCommand],
  [DETECT, detectCommand],
  [CONVERT, convertCommand],
  [BENCH, benchCommand],
  [OPS_TOUR, opsTourCommand],
];

function help(): string {
  const width = Math.max(...COMMANDS.map(([s]) => s.name.length)) + 3;
  return [
    'Usage: retinanet <command> [options]   (retinanet <command> --help for its options; retinanet --version)',
    '',
    'Commands:',
    ...COMMANDS.map(([s]) => `  ${s.name.padEnd(width)}${s.summary}`),
  ].join('\n');
}

// PROD only silences tfjs's warnings, here its banner advising tfjs-node (which cannot install
// where TensorFlow's servers are unreachable; the native kernels stand in for it).
tf.env().set('PROD', true);
// A process of our own: freed tensor memory stays in it, and V8 collects less often (see
// ops.retainFreedMemory, ops.relaxGarbageCollection).
retainFreedMemory();
relaxGarbageCollection();

/** The installed package's version (package.json two folders up from dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  // A bare `retinanet` is a usage error (help on stderr, exit 2), as with git or npm; asking for help is not.
  if (name === undefined) {
    console.error(help());
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(packageVersion());
    return 0;
  }
  const entry = COMMANDS.find(([s]) => s.name === name);
  if (!entry) {
    console.error(`retinanet: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const [spec, run] = entry;
  if (args.includes('--help') || args.includes('-h')) {
    console.log(commandHelp(spec));
    return 0;
  }
  return run(parseFlags(spec, args));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`retinanet ${e.command}: ${e.message} (see retinanet ${e.command} --help)`);
      process.exitCode = 2;
    } else {
      console.error(`retinanet: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  },
);
