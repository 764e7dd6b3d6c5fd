/**
 * What every command shares: the run options (-j, progress, rejects, max errors), the error
 * policy (one line on stderr with a stable code, stack only with --debug, exit 1 or 2), and
 * SIGINT/SIGTERM turned into an AbortSignal so outputs are rolled back.
 */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { ThreadmillError, UsageError } from '../engine/errors.js';
import { createProgress, type ProgressMode, type ProgressModel } from '../engine/progress.js';
import { describeError } from '../engine/error-log.js';
import { defaultThreads } from '../engine/run.js';
import type { LocatedError } from '../engine/run-types.js';

export interface RunFlags {
  threads?: number;
  progress: ProgressMode;
  quiet?: boolean;
  rejects?: string;
  maxErrors?: number;
  json?: boolean;
  debug?: boolean;
}

export function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function nonNegativeInt(name: string, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Adds -j, --progress, --quiet, --rejects, --max-errors, --json, --debug. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-j, --threads <n>', `worker threads (default: all ${defaultThreads()} cores; small inputs use fewer)`, positiveInt('--threads'))
    .addOption(new Option('--progress <mode>', 'progress on stderr: auto (a bar on a terminal), bar, json (one object a line), none').choices(['auto', 'bar', 'json', 'none']).default('auto'))
    .option('-q, --quiet', 'no progress and no summary on stderr')
    .option('--rejects <file>', 'write rejected records to FILE (JSON lines: input, line, offset, category, reason, text)')
    .option('--max-errors <n>', 'fail the run when more than N records are rejected', nonNegativeInt('--max-errors'))
    .option('--json', 'print the summary as JSON on stdout')
    .option('--debug', 'print stack traces of failures');
}

export function progressFor(flags: RunFlags, label: string): ProgressModel {
  return createProgress(flags.quiet ? 'none' : flags.progress, label);
}

export function printRecordError(flags: RunFlags): (e: LocatedError) => void {
  return (e) => {
    if (!flags.quiet) process.stderr.write(`threadmill: rejected ${describeError(e)}\n`);
  };
}

/** Said once after the first few rejections were printed. */
export function moreErrorsNote(flags: RunFlags): () => void {
  return () => {
    if (!flags.quiet) process.stderr.write(`threadmill: further rejections are counted in the summary${flags.rejects ? ` and written to ${flags.rejects}` : '; --rejects FILE keeps them all'}\n`);
  };
}

export function warner(flags: RunFlags): (message: string) => void {
  return (m) => {
    if (!flags.quiet) process.stderr.write(`threadmill: warning: ${m}\n`);
  };
}

/** An AbortSignal fired by the first SIGINT/SIGTERM; a second one exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(sig === 'SIGTERM' ? 143 : 130);
    controller.abort(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}

/** Runs a command action with the error policy; the process exits with the right code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const debug = process.argv.includes('--debug');
      if (err instanceof ThreadmillError) {
        process.stderr.write(`threadmill: error [${err.code}]: ${err.message}\n`);
        if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`threadmill: error [INTERNAL]: ${(err as Error).message ?? String(err)}\n`);
        if (debug) process.stderr.write(`${(err as Error).stack}\n`);
        process.exitCode = 1;
      }
      // A failed run may still hold stdin or timers open; stderr is written synchronously, so exit now.
      process.exit(process.exitCode);
    }
  };
}

export function usage(message: string): never {
  throw new UsageError(message);
}

/** Right-aligned two-column table for summaries on stderr. */
export function formatTable(rows: [string, string | number][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`).join('\n');
}
