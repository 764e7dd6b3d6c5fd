/**
 * `threadmill nostr`: convert declared for the runner (src/cli/command-spec.ts), which gives it
 * --shard and the generated `merge`; report, lookup, stats and index registered as they are.
 */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { action, formatTable, nonNegativeInt } from '../../cli/common.js';
import { defineCommand, type CommonFlags, type FormatSpec, type Report, type RunContext } from '../../cli/command-spec.js';
import { convertNostr, REJECT_CATEGORIES, type ConvertOptions, type ConvertSummary } from './pipeline.js';
import { mergeNostr, mergeNostrPartial, type MergeSummary } from './merge.js';
import { printFound } from './lookup-print.js';
import { registerNostrReaders } from './read-commands.js';
import { openIndexReadOnly, lookupIds, indexStats, ensureIndexes, indexPath } from './index-db.js';
import { rebuildIndex } from './index-rebuild.js';
import { assertNoDrift, assertRowFilesPresent } from './index-repair.js';
import { verifyIndex, printVerifyReport } from './index-verify.js';
import { recoverDirectory } from '../../engine/atomic.js';
import { lockDirectory } from '../../engine/lock.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import { normalChunkSize } from '../../engine/manifest.js';
import { defaultMemoryLimit, minimumMemoryLimit, parseMemorySize } from '../../engine/memory-budget.js';

function formatMemory(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)}G`;
}

/** `--memory-limit`: a size, at least what one thread needs; a usage error (exit 2) otherwise. */
function memoryLimit(v: string): number {
  let bytes: number;
  try {
    bytes = parseMemorySize(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  const least = minimumMemoryLimit();
  if (bytes < least) throw new InvalidArgumentError(`${v} is below the ${Math.ceil(least / 2 ** 20)}M one thread needs (its V8 heaps, chunk window and SQLite)`);
  return bytes;
}


/**
 * Proton Beam spells these `--validate-signatures false`; we also accept `--no-validate-signatures`.
 * InvalidArgumentError, not our UsageError: commander reports it as a usage error (exit 2, naming
 * the option), while anything else thrown from a parser escapes commander with a stack trace.
 */
function bool(v: string): boolean {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new InvalidArgumentError(`expected true or false, got ${JSON.stringify(v)}`);
}

/** Ids are 64 hex characters (either case: index rows are lowercase and lookups lowercase them). */
function checkIds(ids: readonly string[]): void {
  const bad = ids.find((id) => !/^[0-9a-f]{64}$/i.test(id));
  if (bad !== undefined) throw new ThreadmillError('INVALID_ID', `invalid id ${JSON.stringify(bad)}: an event id is 64 hex characters`, { exitCode: 2 });
}

/** memoryLimit is not an output option (a part's bytes do not depend on it): the manifest leaves it out. */
interface ConvertFlags extends CommonFlags {
  outputDir: string; compressionLevel?: number; validateEventIds?: boolean; validateSignatures?: boolean; filterKinds?: boolean;
  chunkSize?: number; memoryLimit?: number; dataBudget?: number; deferIndexes?: boolean;
}

/** A convert's summary, or a merge's (the runner reports both through the command's report). */
type ConvertResult = ConvertSummary | MergeSummary;

function convertOptions(ctx: RunContext<ConvertFlags>, outDir: string): ConvertOptions {
  const f = ctx.flags;
  return {
    inputs: ctx.inputs, outDir, threads: f.threads, chunkSize: f.chunkSize, memoryLimit: f.memoryLimit, shard: ctx.shard,
    compressionLevel: f.compressionLevel, validateIds: f.validateEventIds, validateSignatures: f.validateSignatures, filterKinds: f.filterKinds,
    errorLog: ctx.errorLog, signal: ctx.signal, warn: ctx.warn,
  };
}

async function convert(ctx: RunContext<ConvertFlags>, o: ConvertOptions): Promise<ConvertSummary> {
  const progress = ctx.progress();
  const s = await convertNostr({ ...o, progress });
  progress.finish();
  return s;
}

function convertReport(s: ConvertSummary): Report {
  return {
    summary: s,
    title: 'threadmill nostr convert: done',
    rows: () => [
      ['lines read', s.lines_read], ['valid', s.valid], ['written', s.written], ['duplicates', s.duplicates],
      ...REJECT_CATEGORIES.map((c): [string, number] => [`rejected ${c.replace('_', ' ')}`, s.rejected[c]]),
      ['day files written', s.files_written], ['spilled bytes', s.spilled_bytes], ['dedup passes (most a day took)', s.dedup_passes], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['events/s', s.events_per_second],
    ],
  };
}

function mergeReport(s: MergeSummary): Report {
  return {
    summary: s,
    title: 'threadmill nostr merge: done',
    rows: () => [['parts', s.parts], ['events in parts', s.events_in], ['written', s.written], ['duplicates', s.duplicates], ['day files written', s.files_written], ['seconds', s.seconds.toFixed(2)]],
  };
}

const isMerge = (r: ConvertResult): r is MergeSummary => 'events_in' in r;

const convertCommand = defineCommand<ConvertFlags, ConvertResult>({
  name: 'convert',
  description: 'convert Nostr events (JSON lines, .jsonl.gz, or - for stdin) into per-day .pb.gz files, deduplicated, with index.db',
  inputs: { name: 'inputs', help: 'input files, or - for stdin', many: true },
  options: (cmd) => cmd
    .option('--compression-level <0-9>', 'gzip level of the .pb.gz files', nonNegativeInt('--compression-level', 9), 6)
    .option('--validate-event-ids [bool]', 'check that id = sha256 of the NIP-01 serialization', bool, true)
    .option('--no-validate-event-ids', 'skip the id check')
    .option('--validate-signatures [bool]', 'check the BIP-340 signature', bool, true)
    .option('--no-validate-signatures', 'skip signature checks')
    .option('--no-filter-kinds', 'accept kinds above 65535')
    .option('--defer-indexes', 'build only the secondary index convert needs (idx_created_at); `nostr index finish DIR` adds the other three later')
    .option('--memory-limit <size>', `peak memory of the run, e.g. 2G; past it events spill to disk beside the output (default: a quarter of RAM, at least 1G, here ${formatMemory(defaultMemoryLimit())})`, memoryLimit)
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(Number).hideHelp())
    // Tests: the bytes left for data after fixed costs, so tiny inputs take the spill paths.
    .addOption(new Option('--data-budget <bytes>', 'bytes for growing structures').argParser(Number).hideHelp()),
  output: { flags: '-o, --output-dir <dir>', help: 'output directory, created when missing; an existing one gets only new events', required: false, default: './pb_data', of: (f) => f.outputDir },
  check(inputs) {
    if (inputs.filter((i) => i === '-').length > 1) throw new UsageError('stdin (-) can be given only once');
  },
  run: (ctx) => convert(ctx, { ...convertOptions(ctx, ctx.output!), dataBudget: ctx.flags.dataBudget, deferIndexes: ctx.flags.deferIndexes }),
  report: (r) => (isMerge(r) ? mergeReport(r) : convertReport(r)),
  counts: (r) => (isMerge(r) ? { records: r.written, rejected: 0 } : { records: r.written, rejected: r.rejected_total }),
  shard: {
    refuse(_f, inputs) {
      if (inputs.includes('-')) throw new ThreadmillError('SHARD_UNSEEKABLE', '--shard: stdin cannot be read by several shards; give files', { exitCode: 2 });
      return undefined;
    },
    manifestOptions: (f) => ({
      compressionLevel: f.compressionLevel ?? 6, validateIds: f.validateEventIds ?? true, validateSignatures: f.validateSignatures ?? true, filterKinds: f.filterKinds ?? true, chunkSize: normalChunkSize(f.chunkSize),
    }),
    // What a merge reads back (duplicates: the shard's own, added to the merge's).
    data: (r) => (isMerge(r) ? {} : { lines_read: r.lines_read, valid: r.valid, written: r.written, duplicates: r.duplicates }),
    share: (r) => (isMerge(r) ? null : r.share),
    part: {
      kind: 'custom',
      // As before the runner: a part gets all four indexes and the budget --memory-limit leaves (no --defer-indexes, --data-budget).
      fill: (dir, ctx) => convert(ctx, convertOptions(ctx, dir)),
      merge(parts, output) {
        if (!output) throw new UsageError('nostr merge needs -o DIR: the directory to add the parts to (created when missing)');
        return mergeNostr(parts, output);
      },
      mergePartial: (parts, dir) => mergeNostrPartial(parts, dir),
    },
  },
});

function registerReaders(nostr: Command): void {
  registerNostrReaders(nostr);
  nostr.command('report')
    .description('one self-contained HTML page of charts from DIR/index.db (no network when opened): events per day and per kind, most active authors')
    .argument('<dir>', 'output directory of convert')
    .requiredOption('-o, --output <file>', 'the HTML file to write (- for stdout)')
    .action(action(async (dir: string, flags: { output: string }) => {
      recoverDirectory(dir);
      const [{ nostrReport }, { writeReport }] = await Promise.all([import('./report.js'), import('../../sinks/html-report.js')]);
      writeReport(flags.output, nostrReport(dir));
    }));
  nostr.command('lookup')
    .description('find events by id in DIR/index.db: where each is, or with --print the events')
    .argument('<dir>', 'output directory of convert')
    .argument('<ids...>', 'event ids (64 hex characters)')
    .option('--json', 'one JSON object per id on stdout')
    .option('--print', 'print the events found, as JSON lines in the order of the ids (missing ones are named on stderr)')
    .action(action(async (dir: string, ids: string[], flags: { json?: boolean; print?: boolean }) => {
      checkIds(ids);
      if (flags.json && flags.print) throw new UsageError('--json and --print both write stdout; give one');
      recoverDirectory(dir);
      const db = openIndexReadOnly(dir);
      const found = lookupIds(db, ids);
      db.close();
      assertRowFilesPresent(dir, found.values());
      if (flags.print) await printFound(dir, ids, found);
      // The same path in text and --json: the day file as reached from here (DIR joined with its name).
      else for (const id of ids) {
        const row = found.get(id);
        if (flags.json) process.stdout.write(`${JSON.stringify(row ? { found: true, ...row, file_path: join(dir, row.file_path) } : { id, found: false })}\n`);
        else process.stdout.write(row ? `${row.id}\t${row.kind}\t${row.pubkey}\t${row.created_at}\t${join(dir, row.file_path)}\n` : `${id}\tnot found\n`);
      }
      if (found.size < ids.length) process.exitCode = 1;
    }));
  nostr.command('stats')
    .description('summarize DIR/index.db: events, files, pubkeys, time range, kinds')
    .argument('<dir>', 'output directory of convert')
    .option('--json', 'print as JSON')
    .action(action(async (dir: string, flags: { json?: boolean }) => {
      recoverDirectory(dir);
      const db = openIndexReadOnly(dir);
      const s = indexStats(db);
      db.close();
      assertNoDrift(dir, new Map(s.files.map((f) => [f.file_path, f.events])));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const iso = (t: number | null): string => (t === null ? '-' : `${t} (${new Date(Math.min(t, 8.64e12) * 1000).toISOString()})`);
      process.stdout.write(`${formatTable([['events', s.total_events], ['files', s.unique_files], ['pubkeys', s.unique_pubkeys], ['earliest', iso(s.earliest_event)], ['latest', iso(s.latest_event)]])}\n`);
      process.stdout.write(`  kinds (top 20):\n${s.kinds.slice(0, 20).map((k) => `    ${String(k.kind).padStart(6)}  ${k.events.toLocaleString('en-US')}`).join('\n')}\n`);
    }));
  const index = nostr.command('index').description('maintain DIR/index.db: rebuild, verify, finish');
  registerIndexVerify(index);
  index.command('finish')
    .description('add the secondary indexes that `convert --defer-indexes` left out (idx_kind, idx_pubkey, idx_file_path)')
    .argument('<dir>', 'output directory of convert')
    .option('--json', 'print what was built as JSON')
    .action(action(async (dir: string, flags: { json?: boolean }) => {
      const path = indexPath(dir);
      if (!existsSync(path)) throw new ThreadmillError('INDEX_NOT_FOUND', `no index at ${path}; run \`threadmill nostr convert … -o ${dir}\` first`);
      const lock = lockDirectory(dir);
      const started = performance.now();
      let built: string[];
      try {
        recoverDirectory(dir);
        built = ensureIndexes(path, true);
      } finally {
        lock.release();
      }
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) process.stdout.write(`${JSON.stringify({ built, seconds })}\n`);
      else process.stderr.write(`threadmill nostr index finish: ${built.length > 0 ? `built ${built.join(', ')}` : 'nothing to build'} in ${seconds.toFixed(2)} s\n`);
    }));
  index.command('rebuild')
    .description('rebuild DIR/index.db from the .pb.gz files')
    .argument('<dir>', 'output directory of convert')
    .option('--json', 'print the summary as JSON')
    .action(action(async (dir: string, flags: { json?: boolean }) => {
      // A missing DIR is rebuildIndex's INPUT_NOT_FOUND; lockDirectory would create it.
      const lock = existsSync(dir) ? lockDirectory(dir) : null;
      const s = await rebuildIndex(dir).finally(() => lock?.release());
      if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stderr.write(`threadmill nostr index rebuild: ${s.events.toLocaleString('en-US')} events from ${s.files} files (${s.duplicates} duplicates) in ${s.seconds.toFixed(2)} s\n`);
    }));
}

function registerIndexVerify(index: Command): void {
  index.command('verify')
    .description('check DIR/index.db against every event of the .pb.gz files (exit 1 on any difference)')
    .argument('<dir>', 'output directory of convert')
    .option('--json', 'print the report as JSON')
    .action(action(async (dir: string, flags: { json?: boolean }) => {
      if (!existsSync(dir)) throw new ThreadmillError('INPUT_NOT_FOUND', `input not found: ${dir}`);
      recoverDirectory(dir);
      const report = await verifyIndex(dir);
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(printVerifyReport(report));
      if (!report.ok) {
        const n = Object.values(report.problems).reduce((a, b) => a + b, 0);
        throw new ThreadmillError('INDEX_MISMATCH', `${dir}/index.db disagrees with the day files (${n} problem${n === 1 ? '' : 's'}); \`threadmill nostr index rebuild ${dir}\` rewrites it from the files`);
      }
    }));
}

export const nostrFormat: FormatSpec = {
  name: 'nostr',
  description: 'Nostr events: JSON lines ⇄ per-day protobuf files with an id index',
  commands: [convertCommand],
  more: registerReaders,
};
