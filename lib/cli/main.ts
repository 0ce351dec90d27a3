#!/usr/bin/env node
// The `retinanet` command.
import { runDemo } from './demo';

const HELP = `Usage: retinanet <command> [options]

Commands:
  demo     the native ops on one synthetic image, printing what each computed
           --size N      image side in pixels (default 600)
           --classes K   number of classes (default 80)
           --objects M   ground-truth boxes (default 12)
           --seed S      random seed (default 1)
  help     this text

train, eval, detect and bench arrive with the model, data and evaluation issues.`;

function intFlag(args: string[], name: string, fallback: number, min: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`--${name}: expected an integer >= ${min}, got ${args[i + 1]}`);
  }
  return value;
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return 0;
  }
  if (command === 'demo') {
    if (args.includes('--help')) {
      console.log(HELP);
      return 0;
    }
    runDemo({
      size: intFlag(args, 'size', 600, 8),
      classes: intFlag(args, 'classes', 80, 1),
      objects: intFlag(args, 'objects', 12, 0),
      seed: intFlag(args, 'seed', 1, 0),
    });
    return 0;
  }
  console.error(`retinanet: unknown command '${command}'\n\n${HELP}`);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`retinanet: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
