/** The `threadmill nostr` command group: convert, cat, lookup, stats, index rebuild. */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { addRunOptions, action, progressFor, printRecordError, moreErrorsNote, warner, interruptSignal, formatTable, printSummary, nonNegativeInt, checkRejects, type RunFlags } from '../../cli/common.js';
import { convertNostr, REJECT_CATEGORIES, type ConvertSummary } from './pipeline.js';
import { SHARD_HELP, shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerNostrMerge, shardNostr, type NostrConvertFlags } from './merge.js';
import { printFound } from './lookup-print.js';
import { registerNostrReaders } from './read-commands.js';
import { openIndexReadOnly, lookupIds, indexStats, ensureIndexes, indexPath } from './index-db.js';
import { rebuildIndex } from './index-rebuild.js';
import { assertNoDrift, assertRowFilesPresent } from './index-repair.js';
import { verifyIndex, printVerifyReport } from './index-verify.js';
import { recoverDirectory } from '../../engine/atomic.js';
import { lockDirectory } from '../../engine/lock.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
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

function printConvertSummary(s: ConvertSummary, flags: RunFlags): void {
  printSummary(flags, s, 'threadmill nostr convert: done', () => [
    ['lines read', s.lines_read], ['valid', s.valid], ['written', s.written], ['duplicates', s.duplicates],
    ...REJECT_CATEGORIES.map((c): [string, number] => [`rejected ${c.replace('_', ' ')}`, s.rejected[c]]),
    ['day files written', s.files_written], ['spilled bytes', s.spilled_bytes], ['dedup passes (most a day took)', s.dedup_passes], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['events/s', s.events_per_second],
  ]);
}

function registerConvert(nostr: Command): void {
  addRunOptions(nostr.command('convert')
    .description('convert Nostr events (JSON lines, .jsonl.gz, or - for stdin) into per-day .pb.gz files, deduplicated, with index.db')
    .argument('<inputs...>', 'input files, or - for stdin')
    .option('-o, --output-dir <dir>', 'output directory', './pb_data')
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
    .addOption(new Option('--data-budget <bytes>', 'bytes for growing structures').argParser(Number).hideHelp())
    .option('--shard <I/N>', SHARD_HELP))
    .action(action(async (inputs: string[], flags: NostrConvertFlags & ShardFlags) => {
      const shard = shardOf(flags);
      if (shard) return shardNostr(inputs, flags, shard);
      if (inputs.filter((i) => i === '-').length > 1) throw new UsageError('stdin (-) can be given only once');
      checkRejects(flags, inputs);
      const progress = progressFor(flags, 'nostr convert');
      const summary = await convertNostr({
        inputs, outDir: flags.outputDir, threads: flags.threads, chunkSize: flags.chunkSize, memoryLimit: flags.memoryLimit, dataBudget: flags.dataBudget, deferIndexes: flags.deferIndexes,
        compressionLevel: flags.compressionLevel, validateIds: flags.validateEventIds, validateSignatures: flags.validateSignatures, filterKinds: flags.filterKinds,
        rejectsPath: flags.rejects, maxErrors: flags.maxErrors, progress, signal: interruptSignal(),
        onRecordError: printRecordError(flags), onMoreRecordErrors: moreErrorsNote(flags), warn: warner(flags),
      });
      progress.finish();
      printConvertSummary(summary, flags);
    }));
}

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

export function registerNostrCommands(program: Command): void {
  const nostr = program.command('nostr').description('Nostr events: JSON lines ⇄ per-day protobuf files with an id index');
  registerConvert(nostr);
  registerNostrMerge(nostr);
  registerReaders(nostr);
}
