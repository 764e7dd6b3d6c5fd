/**
 * `fsscan import --shard I/N` and `fsscan merge PART… --db OUT`.
 *
 * A shard folds its share of the scan into a directory table exactly as an import does (chunk
 * partials merged in order, merge.ts) and writes that table as one DirPartial (parents before
 * children, as partials always are). Merge adds the parts' tables in shard order — the same
 * associative merge — so directories get the ids, sums, maxima and owner states of one unsharded
 * import; then the tree, the recursive roll-up and the database are built once (tree.ts, write.ts).
 * Only scan_metadata.import_timestamp differs (it is the merge's time).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { action, formatTable } from '../../cli/common.js';
import { PARTIAL_HELP, mergedPartPath, partPathOf } from '../../cli/shard.js';
import { runChunks } from '../../engine/run.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { lockFile } from '../../engine/lock.js';
import { ThreadmillError } from '../../engine/errors.js';
import { makeManifest, normalChunkSize } from '../../engine/manifest.js';
import { mergedManifest, readParts, writePart, type Part } from '../../engine/parts.js';
import type { Shard } from '../../engine/shard.js';
import type { AggregateOptions, DirPartial } from './aggregate.js';
import { HIST_WIDTH } from './buckets.js';
import { DirTable } from './merge.js';
import { formatOfRun, nameSources, resolveFacts, taskModule, type FsscanImportOptions } from './import.js';
import { buildTree } from './tree.js';
import { writeDatabase, type ScanFacts } from './write.js';
import type { ScanFormat } from './parse.js';

const TABLE_FILE = 'dirs.bin';

/** The table as one partial. Sizes go through float64 like every partial's (exact below 2^53 bytes). */
function tableAsPartial(t: DirTable): DirPartial {
  const n = t.count;
  const nameStart = new Int32Array(n);
  const nameEnd = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    nameStart[i] = t.nameOff[i]!;
    nameEnd[i] = t.nameOff[i]! + t.nameLen[i]!;
  }
  const histUids = Float64Array.from(t.hist.keys());
  const hist = new Float64Array(histUids.length * HIST_WIDTH);
  let u = 0;
  for (const h of t.hist.values()) {
    const at = u++ * HIST_WIDTH;
    for (let k = 0; k < 10; k++) {
      hist[at + k] = h.files[k]!;
      hist[at + 10 + k] = Number(h.bytes[k]!);
      hist[at + 20 + k] = h.files[10 + k]!;
      hist[at + 30 + k] = Number(h.bytes[10 + k]!);
    }
  }
  return {
    count: n, parent: t.parent.slice(0, n), nameStart, nameEnd, keys: t.names.slice(0, t.namesUsed),
    files: t.files.slice(0, n), size: Float64Array.from(t.size.subarray(0, n), Number), dirLines: t.dirLines.slice(0, n),
    atime: t.atime.slice(0, n), uid: t.uid.slice(0, n), gid: t.gid.slice(0, n), own: t.own.slice(0, n),
    histUids, hist, messages: t.messages, formats: t.formats,
  };
}

const ARRAYS = ['parent', 'nameStart', 'nameEnd', 'keys', 'files', 'size', 'dirLines', 'atime', 'uid', 'gid', 'own', 'histUids', 'hist'] as const;
type ArrayField = (typeof ARRAYS)[number];

/** A JSON header line, then the arrays' bytes back to back. */
function encodePartial(p: DirPartial): Buffer {
  const lengths = ARRAYS.map((k) => p[k].byteLength);
  const head = Buffer.from(`${JSON.stringify({ count: p.count, messages: p.messages, formats: p.formats, lengths })}\n`);
  return Buffer.concat([head, ...ARRAYS.map((k) => Buffer.from(p[k].buffer, p[k].byteOffset, p[k].byteLength))]);
}

function decodePartial(buf: Buffer, path: string): DirPartial {
  const nl = buf.indexOf(0x0a);
  const head = JSON.parse(buf.subarray(0, nl).toString()) as { count: number; messages: number; formats: number; lengths: number[] };
  let at = nl + 1;
  const out: Partial<Record<ArrayField, ArrayBufferView>> = {};
  const ctor: Record<ArrayField, { new (b: ArrayBuffer): ArrayBufferView }> = {
    parent: Int32Array, nameStart: Int32Array, nameEnd: Int32Array, keys: Uint8Array, files: Float64Array, size: Float64Array, dirLines: Float64Array,
    atime: Float64Array, uid: Float64Array, gid: Float64Array, own: Uint8Array, histUids: Float64Array, hist: Float64Array,
  };
  ARRAYS.forEach((k, i) => {
    const len = head.lengths[i]!;
    if (at + len > buf.length) throw new ThreadmillError('PART_INVALID', `${path} is cut short; nothing was written`);
    // A copy into its own buffer: typed arrays need aligned offsets.
    out[k] = new ctor[k](buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + len) as ArrayBuffer);
    at += len;
  });
  return { ...(out as Record<ArrayField, never>), count: head.count, messages: head.messages, formats: head.formats };
}

/** `fsscan import --shard`: the share's directory table as a part (--db names the part). */
export async function shardFsscan(opts: FsscanImportOptions, shard: Shard): Promise<{ part: string; records: number; rejected: number }> {
  const { filesystem, scanDate } = resolveFacts(opts);
  const path = partPathOf(opts.db, shard);
  const table = new DirTable();
  const taskOptions: AggregateOptions = { format: opts.format ?? null, scanDate, unescapePercent: opts.unescapePercent ?? false };
  let records = 0;
  let rejected = 0;
  const options = { format: opts.format ?? null, filesystem, scanDate, unescapePercent: opts.unescapePercent ?? false, chunkSize: normalChunkSize(opts.chunkSize) };
  await writePart(path, makeManifest({ format: 'fsscan', command: 'import', options, inputs: opts.inputs, shard }), async (dir) => {
    const stats = await runChunks<AggregateOptions, DirPartial>({
      inputs: opts.inputs, taskModule, taskOptions, threads: opts.threads, chunkSize: opts.chunkSize, shard,
      progress: opts.progress, errorLog: opts.errorLog, signal: opts.signal, warn: opts.warn,
      onChunk(c) {
        table.merge(c.payload);
      },
    });
    records = stats.records;
    rejected = stats.errors;
    writeFileSync(join(dir, TABLE_FILE), encodePartial(tableAsPartial(table)));
    opts.progress?.finish?.();
  }, (m) => {
    m.data = { records, rejected, names: opts.inputs.map((p) => basename(p)) };
  });
  return { part: path, records, rejected };
}

/** The parts' directory tables added in shard order (the import's own associative merge). */
function mergeTables(parts: Part[]): { table: DirTable; records: number; rejected: number } {
  const table = new DirTable();
  let records = 0;
  let rejected = 0;
  for (const p of parts) {
    table.merge(decodePartial(readFileSync(join(p.path, TABLE_FILE)), p.path));
    records += Number(p.manifest.data?.records ?? 0);
    rejected += Number(p.manifest.data?.rejected ?? 0);
  }
  return { table, records, rejected };
}

/** `merge --partial`: consecutive parts' tables added into one merged part. */
export async function mergeFsscanPartial(parts: Part[], output: string): Promise<void> {
  const { table, records, rejected } = mergeTables(parts);
  await writePart(output, mergedManifest(parts, { records, rejected, names: parts[0]!.manifest.data?.names }), (dir) => writeFileSync(join(dir, TABLE_FILE), encodePartial(tableAsPartial(table))));
}

/** Merges fsscan parts into the database `db`, atomically, under its lock. */
export function mergeFsscan(parts: Part[], db: string, names?: ScanFacts['names']): Record<string, string | number | null> {
  const started = performance.now();
  const m0 = parts[0]!.manifest;
  const { filesystem, scanDate, format } = m0.options as { filesystem: string; scanDate: number | null; format: ScanFormat | null };
  const { table, records, rejected } = mergeTables(parts);
  const runFormat = formatOfRun(table, format);
  const tree = buildTree(table);
  const lines = records + table.messages;
  const lock = lockFile(db);
  const tx = new OutputTransaction();
  try {
    writeDatabase(tx.tempFor(db), table, tree, {
      sourceFile: (m0.data?.names as string[]).join(','), filesystem, scanDate, names,
      extra: { format: runFormat ?? '', lines, records, messages: table.messages, rejected, created_directories: tree.created },
    });
    tx.commit();
  } catch (err) {
    tx.abort();
    throw err;
  } finally {
    lock.release();
  }
  return { db, parts: parts.length, format: runFormat, lines, records, rejected, directories: tree.order.length, seconds: (performance.now() - started) / 1000 };
}

export function registerFsscanMerge(fsscan: Command): void {
  fsscan.command('merge')
    .description('merge the parts written by `fsscan import --shard I/N` into one database, as one import of the whole scan')
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .requiredOption('--db <file>', 'the database to write (replaced atomically)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP.replace('-o (or --db)', '--db'))
    // Names are looked up when the database is written, here, as in import (issue 19).
    .option('--passwd <file>', 'user names from this passwd file (default /etc/passwd here)')
    .option('--group <file>', 'group names from this group file (default /etc/group here)')
    .option('--no-names', 'store no user or group names')
    .action(action(async (paths: string[], flags: { db: string; json?: boolean; quiet?: boolean; partial?: boolean; passwd?: string; group?: string; names: boolean }) => {
      const names = nameSources({ inputs: [], db: flags.db, passwd: flags.passwd, group: flags.group, names: flags.names });
      const parts = readParts(paths, 'fsscan', ['import'], { partial: flags.partial });
      if (flags.partial) return mergeFsscanPartial(parts, mergedPartPath(flags.db, '--db'));
      const s = mergeFsscan(parts, flags.db, names);
      if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else if (!flags.quiet) process.stderr.write(`threadmill fsscan merge: ${flags.db}\n${formatTable(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)]))}\n`);
      await Promise.resolve();
    }));
}
