/**
 * What a format declares for each of its long commands (convert, stats, import, index …). The
 * runner (runner.ts) owns, once for every command, what happens around it: input and output checks,
 * the output transaction, rejects and the error log with its echo, progress, interrupt, the summary
 * and `--json`, `--shard` and the generated `merge` with its part checks. A format writes its
 * parsing, its task, how two partial results combine, and this declaration; nothing else.
 *
 * Decision 0027 says why the spec has three part kinds and what a new format writes.
 */
import type { Command } from 'commander';
import type { ErrorLog } from '../engine/error-log.js';
import type { Part } from '../engine/parts.js';
import type { Progress } from '../engine/progress.js';
import type { Shard } from '../engine/shard.js';
import type { ShareCoverage } from '../engine/share-plan.js';
import type { OutputTransaction } from '../engine/atomic.js';

/** The flags every long command has (addRunOptions). */
export interface CommonFlags {
  threads?: number;
  progress?: 'auto' | 'bar' | 'json' | 'none';
  quiet?: boolean;
  rejects?: string;
  maxErrors?: number;
  json?: boolean;
  debug?: boolean;
  shard?: string;
}

/** What the runner hands a command's `run`, built once per run. */
export interface RunContext<F> {
  inputs: string[];
  flags: F & CommonFlags;
  /** The main output: `-o` as given, or the data file inside the part when sharded. */
  output: string | undefined;
  /** The share to do (`--shard`); undefined for a whole run. */
  shard: Shard | undefined;
  /** Record errors: counted, echoed (the first ECHO_LIMIT), written to --rejects, --max-errors. */
  errorLog: ErrorLog;
  /** True when the user asked to skip bad records (--rejects or --max-errors given). */
  rejecting: boolean;
  /** The run's output transaction: the rejects file is under it; a format may add its outputs. */
  tx: OutputTransaction;
  signal: AbortSignal;
  /** A progress display for one pass (labelled `<format> <command>` plus `label`); call finish(). */
  progress(label?: string): Progress & { finish(): void };
  warn(message: string): void;
}

/** What a run (or a merge) reports: `summary` is the --json object, the rest is for people. */
export interface Report {
  /** The --json object (and the `{"type":"summary"}` line of --progress json). */
  summary: unknown;
  /** The command's data on stdout when not --json (a stats table); absent: nothing on stdout. */
  stdout?: string;
  /** A titled table on stderr (unless --quiet or --json). */
  title?: string;
  rows?: () => [string, string | number][];
  /** One line on stderr after the data (unless --quiet), e.g. how many records were left out. */
  note?: string;
}

/** A partial that is a small JSON value: stats-like commands (map-reduce). */
export interface SummaryPart<F, R, P> {
  kind: 'summary';
  /** The partial of a run's result (what a shard stores). */
  partialOf(result: R): P;
  /** P as JSON and back (Infinity and typed arrays do not survive JSON.stringify). */
  toJson(p: P): unknown;
  fromJson(x: unknown): P | null;
  /** Associative: combine(combine(a, b), c) equals combine(a, combine(b, c)). */
  combine(a: P, b: P): P;
  /** The result one unsharded run would have given, from the combined partial and the manifest's data. */
  resultOf(p: P, data: Record<string, unknown>, flags: F): R;
}

/**
 * A partial that is the output file itself (Arrow IPC or Parquet): merge appends them (sinks). The
 * records it holds are the command's `counts`, kept in the manifest.
 */
export interface TablePart {
  kind: 'table';
}

/** Anything else (a database, a directory): the format fills the part and merges parts itself. */
export interface CustomPart<F, R> {
  kind: 'custom';
  /** Runs the share with the part's directory as the output. */
  fill(dir: string, ctx: RunContext<F>): Promise<R>;
  /** Writes what one unsharded run writes from the parts (in shard order), at `output`. */
  merge(parts: Part[], output: string | undefined, ctx: MergeContext<F>): Promise<R>;
  /** `merge --partial`: consecutive parts into one merged part's directory. */
  mergePartial(parts: Part[], dir: string, ctx: MergeContext<F>): Promise<Record<string, unknown>>;
}

export interface MergeContext<F> {
  flags: F & CommonFlags & { partial?: boolean; output?: string };
  progress(label?: string): Progress & { finish(): void };
  warn(message: string): void;
  signal: AbortSignal;
}

export interface ShardSpec<F, R, P> {
  /** The inputs the manifest identifies by content (default: all; none for a folder walked by the format). */
  manifestInputs?(inputs: string[]): string[];
  /** The options that make parts one run, normalised (defaults spelled out). */
  manifestOptions(flags: F, inputs: string[]): Record<string, unknown>;
  /** A usage message when an option given cannot be sharded (the manifest cannot record it). */
  refuse?(flags: F, inputs: string[]): string | undefined;
  /** Facts for the manifest's `data` besides records and rejected. */
  data?(result: R, flags: F, inputs: string[]): Record<string, unknown>;
  /** Share coverage the run reports (for the manifest's tiling check). */
  share(result: R): ShareCoverage[] | null | undefined;
  part: SummaryPart<F, R, P> | TablePart | CustomPart<F, R>;
}

export interface CommandSpec<F = Record<string, unknown>, R = unknown, P = unknown> {
  name: string;
  description: string;
  /** The positional inputs. */
  inputs: { name: string; help: string; many: boolean };
  /** The command's own options (the common ones are added by the runner). */
  options?(cmd: Command): Command;
  /** Options of how the result is shown (e.g. --tsv): also given to `merge`. */
  reportOptions?(cmd: Command): Command;
  /** Options only `merge` has (what its final step needs that the parts do not record). */
  mergeOptions?(cmd: Command): Command;
  /**
   * The main output: the option that names it (a shard's part, then; `merge` names its output with
   * the same option), whether it is required, and how to read it from the parsed flags.
   */
  output?: { flags: string; help: string; required: boolean; of(flags: F): string | undefined; /** The long command's default (not merge's: a merge names its output). */ default?: string };
  /**
   * What a record error is to a person: `rejected` (left out of the output; the default) or
   * `warnings` (kept, e.g. code's files indexed despite syntax errors): how the echo reads.
   */
  recordErrors?: 'rejected' | 'warnings';
  /** Usage checks beyond commander's (exit 2). */
  check?(inputs: string[], flags: F): void;
  run(ctx: RunContext<F>): Promise<R>;
  report(result: R, flags: F & CommonFlags, inputs: string[]): Report;
  /** Records read and rejected, for a shard's manifest and message. */
  counts(result: R): { records: number; rejected: number };
  shard?: ShardSpec<F, R, P>;
}

/** A format's commands as the runner registers them. */
export interface FormatSpec {
  name: string;
  description: string;
  /** The long commands: each gets the common flags, --shard and a place in `merge`. */
  commands: CommandSpec<never, never, never>[];
  /** Other commands (queries, header, …), registered as they are. */
  more?(group: Command): void;
}

/** Fixes a command spec's generic types (as defineTask does for tasks). */
export function defineCommand<F, R, P = unknown>(spec: CommandSpec<F, R, P>): CommandSpec<never, never, never> {
  return spec as unknown as CommandSpec<never, never, never>;
}
