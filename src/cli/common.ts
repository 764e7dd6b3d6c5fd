/**
 * What every command shares: the run options (-j, progress, rejects, max errors), the error
 * policy (one line on stderr with a stable code, stack only with --debug, exit 1 or 2),
 * SIGINT/SIGTERM turned into an AbortSignal so outputs are rolled back, and closed pipes
 * (`threadmill … | head -1`) handled quietly.
 */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { InterruptedError, UsageError } from '../engine/errors.js';
import { abortAllOutputs, stopCommitsOn } from '../engine/atomic.js';
import { asFatal, causeWhere } from '../engine/fatal.js';
import type { ProgressMode } from '../engine/progress.js';
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


export function printRecordError(flags: RunFlags): (e: LocatedError) => void {
  return (e) => {
    if (!flags.quiet) process.stderr.write(`threadmill: rejected ${describeError(e)}\n`);
  };
}

/** Where record errors past the echo go: the summary's count, and the rejects file or a hint at it. */
export function whereTheRestGo(flags: Pick<RunFlags, 'rejects'>): string {
  return `counted in the summary${flags.rejects ? ` and written to ${flags.rejects}` : '; --rejects FILE keeps them all'}`;
}

/** Said once after the first few rejections were printed. */
export function moreErrorsNote(flags: RunFlags): () => void {
  return () => {
    if (!flags.quiet) process.stderr.write(`threadmill: further rejections are ${whereTheRestGo(flags)}\n`);
  };
}

export function warner(flags: RunFlags): (message: string) => void {
  return (m) => {
    if (!flags.quiet) process.stderr.write(`threadmill: warning: ${m}\n`);
  };
}

/**
 * SIGINT/SIGTERM before a command's action starts (Node loading the format's modules: ~0.4 s with
 * better-sqlite3 and apache-arrow) would kill the process without a word: until then it exits
 * 130/143 with INTERRUPTED, as a run does; nothing has been written yet.
 */
function earlySignal(sig: NodeJS.Signals): void {
  process.stderr.write(`threadmill: error [INTERRUPTED]: ${new InterruptedError(sig).message}\n`);
  process.exit(sig === 'SIGTERM' ? 143 : 130);
}

export function catchEarlySignals(): void {
  process.on('SIGINT', earlySignal);
  process.on('SIGTERM', earlySignal);
}

function releaseEarlySignals(): void {
  process.off('SIGINT', earlySignal);
  process.off('SIGTERM', earlySignal);
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
  stopCommitsOn(controller.signal);
  return controller.signal;
}

/**
 * Exit status when the reader of stdout went away (`| head -1`): 128 + SIGPIPE, what a Unix tool
 * killed by SIGPIPE reports, so `set -o pipefail` scripts still see that output was cut short.
 */
export const EXIT_CLOSED_STDOUT = 141;

/** True when `err` (or an error it wraps) is a write to a closed pipe. */
export function isClosedPipe(err: unknown): boolean {
  return causeWhere(err, (e) => e.code === 'EPIPE' || /\bEPIPE\b/.test(e.message), 5) !== null;
}

let pipesGuarded = false;
/**
 * Node ignores SIGPIPE, so a closed stdout or stderr becomes an 'error' event, and with no
 * listener a crash with a stack trace that skips every cleanup (issue 8: a 41 MB temporary left
 * by `bam convert … 2>&1 | head -1`). stdout closed: nobody wants the data any more, so the run
 * stops, removes its temporaries (abortAllOutputs) and exits quietly. stderr closed: only
 * messages are lost, so the run goes on and finishes its outputs silently.
 */
export function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    abortAllOutputs();
    process.exit(EXIT_CLOSED_STDOUT);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}


/** Runs a command action with the error policy; the process exits with the right code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    releaseEarlySignals();
    guardPipes();
    try {
      await fn(...args);
    } catch (err) {
      if (isClosedPipe(err)) {
        abortAllOutputs();
        process.exit(EXIT_CLOSED_STDOUT);
      }
      const debug = process.argv.includes('--debug');
      // One policy for every command (engine/fatal.ts): a full disk is DISK_FULL naming the output, a non-ThreadmillError INTERNAL.
      const fatal = asFatal(err);
      process.stderr.write(`threadmill: error [${fatal.code}]: ${fatal.message}\n`);
      if (debug) process.stderr.write(`${(err as Error).stack ?? fatal.stack}\n`);
      process.exitCode = fatal.exitCode;
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
