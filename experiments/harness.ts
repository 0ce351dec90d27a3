// What the experiment scripts share: statistics for their tables, a run in a child process, and
// running a command as a script with the package's CLI conventions (usage errors exit 2).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as ops from '../dist/ops';
import { commandHelp, CommandSpec, Flags, parseFlags, UsageError } from '../dist/cli/args';

/** A fraction as a percentage with one decimal. */
export const pct = (x: number): string => (100 * x).toFixed(1);

export function mean(xs: number[]): number {
  return xs.reduce((a, v) => a + v, 0) / xs.length;
}

/** Sample standard deviation (0 for fewer than two values). */
export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1));
}

/**
 * A results file's contents to go on with: the one in `file` when it was written for the same
 * budget (its finished runs are kept, `seeds` and `finished` are reset), else `fresh`.
 */
export function openResults<T extends { budget: unknown; seeds: number; runs: object; finished?: boolean }>(file: string, fresh: T): T {
  if (!fs.existsSync(file)) return fresh;
  const old = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  return JSON.stringify(old.budget) === JSON.stringify(fresh.budget) ? { ...old, seeds: fresh.seeds, finished: false } : fresh;
}

/**
 * Runs this script again as a worker (`args` after the script's path) with one pool thread unless
 * RETINANET_NUM_THREADS says otherwise; resolves with the JSON the worker left in `resultFile`.
 */
export function runInChild<T>(args: string[], resultFile: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [process.argv[1], ...args], {
      stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RETINANET_NUM_THREADS: process.env.RETINANET_NUM_THREADS ?? '1' },
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && fs.existsSync(resultFile)) resolve(JSON.parse(fs.readFileSync(resultFile, 'utf8')) as T);
      else reject(new Error(`run ${what} exited with status ${code}`));
    });
  });
}

/** Runs `command` on this process's arguments as `npm run <name> --` would: help, exit codes 0 / 1 / 2. */
export function runAsScript(spec: CommandSpec, command: (flags: Flags) => Promise<number>): void {
  tf.env().set('PROD', true);
  ops.retainFreedMemory();
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(commandHelp(spec).replace(`retinanet ${spec.name}`, `npm run ${spec.name} --`));
    return;
  }
  Promise.resolve()
    .then(() => command(parseFlags(spec, argv)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e: unknown) => {
        console.error(`${spec.name}: ${e instanceof Error ? e.message : String(e)}${e instanceof UsageError ? ` (see npm run ${spec.name} -- --help)` : ''}`);
        process.exitCode = e instanceof UsageError ? 2 : 1;
      },
    );
}
