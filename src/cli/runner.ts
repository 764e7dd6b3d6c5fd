/**
 * The one runner of long commands (command-spec.ts): a whole run, a shard's run into a part, and
 * the merge of parts. Library functions: no commander, nothing printed except through `RunHooks`,
 * so a library user shards and merges any format without the CLI (src/index.ts exports these).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputTransaction } from '../engine/atomic.js';
import { ErrorLog } from '../engine/error-log.js';
import { UsageError } from '../engine/errors.js';
import { checkFileOutput } from '../engine/output-target.js';
import { makeManifest } from '../engine/manifest.js';
import { mergedManifest, readParts, readStatsFile, writePart, type Part } from '../engine/parts.js';
import { createProgress } from '../engine/progress.js';
import { expandPartPath, parseShard, type Shard } from '../engine/shard.js';
import type { LocatedError } from '../engine/run-types.js';
import { appendTableFiles, tableKindOf, tableKindOfExtension } from '../sinks/table-file.js';
import type { CommandSpec, CommonFlags, FormatSpec, MergeContext, Report, RunContext, SummaryPart } from './command-spec.js';

/** Rejected records echoed on stderr before the rest only go to the count (and --rejects). */
export const ECHO_LIMIT = 20;

/** What a run tells a person; the CLI prints, a library user may pass nothing. */
export interface RunHooks {
  onRecordError?(e: LocatedError): void;
  /** Once, when the first rejection past ECHO_LIMIT arrives. */
  onMoreErrors?(): void;
  warn?(message: string): void;
}

type AnySpec = CommandSpec<Record<string, unknown>, unknown, unknown>;
type Flags = Record<string, unknown> & CommonFlags;

const PART_DATA = 'stats.json';

/** How the command's output option is spelled for people: `-o` or `--db`. */
function optionName(spec: AnySpec): string {
  const flags = spec.output?.flags.split(/[ ,]+/) ?? ['-o'];
  return flags.find((f) => /^-[a-z]$/i.test(f)) ?? flags[0]!;
}

/** The spec of `format command`; a usage error naming the commands otherwise. */
export function commandOf(format: FormatSpec, name: string): AnySpec {
  const spec = format.commands.find((c) => c.name === name) as AnySpec | undefined;
  if (!spec) throw new UsageError(`${format.name} has no command ${JSON.stringify(name)} (it has ${format.commands.map((c) => c.name).join(', ')})`);
  return spec;
}

/** A progress display labelled `label`, or none under --quiet (and by default for a library caller). */
function progressOf(flags: Flags, label: string): ReturnType<typeof createProgress> {
  return createProgress(flags.quiet ? 'none' : flags.progress ?? 'none', label);
}

/** A summary part's partial, written as the part's JSON data file. */
function writeSummaryPartial(dir: string, part: SummaryPart<Flags, unknown, unknown>, partial: unknown): void {
  writeFileSync(join(dir, PART_DATA), `${JSON.stringify(part.toJson(partial))}\n`);
}

/** A table part's data file: `data.EXT`, the extension its manifest records. */
function tableFileOf(dir: string, ext: unknown): string {
  return join(dir, `data.${String(ext)}`);
}

function contextFor(format: string, spec: AnySpec, inputs: string[], flags: Flags, output: string | undefined, shard: Shard | undefined, rejectsPath: string | undefined, hooks: RunHooks, signal: AbortSignal): RunContext<Flags> {
  const tx = new OutputTransaction();
  const errorLog = new ErrorLog({ maxErrors: flags.maxErrors, rejectsPath: rejectsPath ? tx.tempFor(rejectsPath) : undefined, onError: hooks.onRecordError, onMore: hooks.onMoreErrors, echo: ECHO_LIMIT });
  const where = shard ? ` (shard ${shard.index}/${shard.count})` : '';
  return {
    inputs, flags, output, shard, errorLog, tx, signal,
    rejecting: flags.rejects !== undefined || flags.maxErrors !== undefined,
    progress: (label) => progressOf(flags, `${format} ${spec.name}${label ? ` ${label}` : ''}${where}`),
    warn: (m) => hooks.warn?.(m),
  };
}

/** Runs `run` with the context's error log and transaction: committed on success, rolled back otherwise. */
async function transacted<R>(ctx: RunContext<Flags>, run: () => Promise<R>): Promise<R> {
  try {
    const r = await run();
    ctx.errorLog.close();
    ctx.tx.commit();
    return r;
  } catch (err) {
    try {
      ctx.errorLog.close();
    } catch {
      // The run's own failure is the one to report; the rejects temporary is removed below.
    }
    ctx.tx.abort();
    throw err;
  }
}

/**
 * A whole run of `spec` on `inputs`: output checks, rejects, the run, commit. A command without an
 * output option prints its data on stdout, so --rejects - cannot go there.
 */
export async function runWhole(format: string, spec: AnySpec, inputs: string[], flags: Flags, hooks: RunHooks = {}, signal: AbortSignal = new AbortController().signal): Promise<unknown> {
  spec.check?.(inputs, flags);
  const output = spec.output?.of(flags);
  checkStdout(flags, inputs, output === undefined ? [] : [output], spec.output === undefined);
  const ctx = contextFor(format, spec, inputs, flags, output, undefined, flags.rejects, hooks, signal);
  return transacted(ctx, () => spec.run(ctx));
}

/** stdout carries one thing: `-o -`, `--rejects -`, `--json` and a command's report exclude each other. */
function checkStdout(flags: Flags, inputs: string[], outputs: string[], stdoutTaken: boolean): void {
  if (flags.json && outputs.includes('-')) throw new UsageError('--json prints the summary on stdout, where -o - writes the output; drop one of them');
  const stdout = !stdoutTaken && !flags.json && !outputs.includes('-');
  if (flags.rejects !== undefined) checkFileOutput(flags.rejects, { option: '--rejects', inputs, outputs, stdout });
}

/** A shard's rejects file: its own, so shards sharing a directory (or two hosts) never clobber one another. */
function shardRejectsPath(rejects: string | undefined, shard: Shard): string | undefined {
  if (rejects === undefined) return undefined;
  if (shard.count > 1 && !rejects.includes('{I}')) throw new UsageError(`with --shard, --rejects needs {I} in its name (each shard writes its own file), e.g. ${rejects.replace(/(\.[^./]*)?$/, '.{I}$1')}`);
  return expandPartPath(rejects, shard);
}

export interface ShardOutcome<R> { part: string; shard: Shard; result: R; records: number; rejected: number }

/** `--shard I/N`: the share of the run, written as a part at -o (or the command's output option). */
export async function runShard(format: string, spec: AnySpec, inputs: string[], flags: Flags, shard: Shard | string, hooks: RunHooks = {}, signal: AbortSignal = new AbortController().signal): Promise<ShardOutcome<unknown>> {
  const s = typeof shard === 'string' ? parseShard(shard) : shard;
  const sh = spec.shard;
  if (!sh) throw new UsageError(`${format} ${spec.name} does not take --shard`);
  spec.check?.(inputs, flags);
  const refused = sh.refuse?.(flags, inputs);
  if (refused) throw new UsageError(refused);
  const named = spec.output?.of(flags) ?? (flags.output as string | undefined);
  if (!named) throw new UsageError(`--shard needs ${optionName(spec)} PART: the directory the shard writes its part to (e.g. parts/{I})`);
  const path = expandPartPath(named, s);
  const rejects = shardRejectsPath(flags.rejects, s);
  checkStdout({ ...flags, rejects }, inputs, [path], true);
  const options = sh.manifestOptions(flags, inputs);
  const manifest = makeManifest({ format, command: spec.name, options, inputs: sh.manifestInputs?.(inputs) ?? inputs, shard: s });
  const ctx = contextFor(format, spec, inputs, flags, undefined, s, rejects, hooks, signal);
  let result: unknown;
  await transacted(ctx, () => writePart(path, manifest, async (dir) => {
    const part = sh.part;
    if (part.kind === 'custom') result = await part.fill(dir, ctx);
    else if (part.kind === 'table') result = await spec.run({ ...ctx, output: tableFileOf(dir, options.ext) });
    else {
      result = await spec.run(ctx);
      writeSummaryPartial(dir, part as SummaryPart<Flags, unknown, unknown>, part.partialOf(result));
    }
  }, (m) => {
    m.share = sh.share(result) ?? null;
    m.data = { ...spec.counts(result), ...sh.data?.(result, flags, inputs) };
  }));
  return { part: path, shard: s, result, ...spec.counts(result) };
}

/** The parts' data facts as one: counts added, yes/no facts or-ed, anything else the first part's. */
export function mergedData(parts: Part[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...parts[0]!.manifest.data };
  for (const key of Object.keys(out)) {
    const values = parts.map((p) => p.manifest.data?.[key]);
    if (key === 'records' || key === 'rejected') out[key] = values.reduce<number>((n, v) => n + Number(v ?? 0), 0);
    else if (values.every((v) => typeof v === 'boolean')) out[key] = values.some(Boolean);
  }
  return out;
}

function combinedPartial(part: SummaryPart<Flags, unknown, unknown>, parts: Part[]): unknown {
  let total: unknown = null;
  for (const p of parts) {
    const file = join(p.path, PART_DATA);
    let value: unknown = null;
    readStatsFile<object>(file, (x) => (value = part.fromJson(x)) !== null);
    total = total === null ? value : part.combine(total, value);
  }
  return total;
}

export interface MergeOutcome { spec: AnySpec; parts: Part[]; result?: unknown; report?: Report; partial?: string }

/**
 * `<format> merge PART…`: checks the parts (one run, every shard once, shares that tile the inputs),
 * then writes what one unsharded run writes — or, with `partial`, one merged part for a later merge.
 */
export async function mergeParts(format: FormatSpec, paths: string[], flags: Flags & { output?: string; partial?: boolean }, hooks: RunHooks = {}, signal: AbortSignal = new AbortController().signal): Promise<MergeOutcome> {
  const started = performance.now();
  const shardable = format.commands.filter((c) => c.shard).map((c) => c.name);
  const parts = readParts(paths, format.name, shardable, { partial: flags.partial });
  const spec = commandOf(format, parts[0]!.manifest.command);
  const part = spec.shard!.part;
  const ctx: MergeContext<Flags> = { flags, signal, warn: (m) => hooks.warn?.(m), progress: (label) => progressOf(flags, `${format.name} merge${label ? ` ${label}` : ''}`) };
  if (flags.partial) {
    if (!flags.output) throw new UsageError(`merge --partial needs ${optionName(spec)} PART: the directory to write the merged part to`);
    await writeMergedPart(parts, flags.output, part, ctx);
    return { spec, parts, partial: flags.output };
  }
  if (part.kind !== 'table') {
    const result = part.kind === 'summary'
      ? part.resultOf(combinedPartial(part as SummaryPart<Flags, unknown, unknown>, parts), mergedData(parts), flags)
      : await part.merge(parts, flags.output, ctx);
    return { spec, parts, result, report: spec.report(result, flags, parts[0]!.manifest.inputs.map((i) => i.name)) };
  }
  const records = await mergeTables(parts, flags.output);
  const seconds = (performance.now() - started) / 1000;
  const summary = { output: flags.output, parts: parts.length, records, seconds };
  return { spec, parts, result: summary, report: { summary, note: `threadmill ${format.name} merge: ${parts.length} part(s), ${records} records → ${flags.output} in ${seconds.toFixed(2)} s` } };
}

/** The parts' table files appended into `output`, atomically; the records they hold. */
async function mergeTables(parts: Part[], output: string | undefined): Promise<number> {
  const ext = String(parts[0]!.manifest.options.ext);
  if (!output) throw new UsageError(`merging convert parts needs -o OUT (.${ext === 'parquet' ? 'parquet' : 'arrow, .arrows or .parquet'})`);
  const kind = tableKindOfExtension(ext);
  if (tableKindOf(output) !== kind) throw new UsageError(`the parts hold .${ext} data; name the merged output accordingly (got ${output})`);
  const tx = new OutputTransaction();
  try {
    await appendTableFiles(parts.map((p) => tableFileOf(p.path, ext)), kind, tx.tempFor(output), output);
    tx.commit();
  } catch (err) {
    tx.abort();
    throw err;
  }
  return Number(mergedData(parts).records ?? 0);
}

/** `merge --partial`: consecutive parts into one merged part that a later merge takes like a shard's. */
async function writeMergedPart(parts: Part[], output: string, part: NonNullable<AnySpec['shard']>['part'], ctx: MergeContext<Flags>): Promise<void> {
  const data = mergedData(parts);
  if (part.kind === 'summary') {
    const summary = part as SummaryPart<Flags, unknown, unknown>;
    const total = combinedPartial(summary, parts);
    await writePart(output, mergedManifest(parts, data), (dir) => writeSummaryPartial(dir, summary, total));
    return;
  }
  let extra: Record<string, unknown> = {};
  await writePart(output, mergedManifest(parts, data), async (dir) => {
    if (part.kind === 'custom') extra = await part.mergePartial(parts, dir, ctx);
    else {
      const ext = parts[0]!.manifest.options.ext;
      await appendTableFiles(parts.map((p) => tableFileOf(p.path, ext)), tableKindOfExtension(String(ext)), tableFileOf(dir, ext));
    }
  }, (m) => {
    m.data = { ...data, ...extra };
  });
}
