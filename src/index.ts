/**
 * threadmill's library API: what docs/api.md documents, nothing else (issue 19). Each format's
 * typed entry points, and the engine's plug-in contract for writing a format of your own. Modules
 * under dist/src/ that are not exported here are internals and may change in any release.
 *
 * @example
 * import { convertNostr, ParallelParser } from 'threadmill';
 * const summary = await convertNostr({ inputs: ['events.jsonl'], outDir: 'pb_data' });
 * const records = await ParallelParser.fromFile('reads.fq').withThreads(4).parseParallel();
 */

// The engine: a format of your own.
export { runChunks, defaultThreads, type EngineOptions } from './engine/run.js';
export { defineTask, moduleBeside, lineFraming, type Framing, type FormatTask, type ChunkContext, type ChunkResult, type RecordError } from './engine/plugin.js';
export type { OrderedChunk, RunStats, LocatedError } from './engine/run-types.js';
export { runManyInputs, defineItemsTask, type ManyInputsOptions, type ItemsTask } from './engine/many-inputs.js';
export { ThreadmillError, UsageError, InterruptedError } from './engine/errors.js';
export { ERROR_CATALOGUE, type ErrorCode, type CatalogueEntry } from './engine/error-catalogue.js';
export { createProgress, ProgressModel, type ProgressMode, type ProgressSnapshot } from './engine/progress.js';

// Any format's long commands without the CLI: a whole run, a shard's part, the merge of parts.
export { runWhole, runShard, mergeParts, commandOf, type RunHooks } from './cli/runner.js';
export { defineCommand, type FormatSpec, type CommandSpec, type RunContext, type Report } from './cli/command-spec.js';

// Nostr.
export { convertNostr, type ConvertOptions as NostrConvertOptions, type ConvertSummary as NostrConvertSummary } from './formats/nostr/pipeline.js';
export type { NostrEvent, RejectCategory } from './formats/nostr/event.js';
export { readPbGz, eventToJson } from './formats/nostr/pb-reader.js';
export { queryNostr, parseFilter as parseNostrFilter, type NostrFilter } from './formats/nostr/query.js';
export { rebuildIndex } from './formats/nostr/index-rebuild.js';
export { nostrFormat } from './formats/nostr/commands.js';
export { verifyIndex, type VerifyReport, type VerifyFinding, type VerifyProblem } from './formats/nostr/index-verify.js';

// FASTQ.
export { ParallelParser, type ParallelParserConfig, type ParseProgress, type WorkerFunction } from './formats/fastq/parallel-parser.js';
export { FastqRecord, FastqParseError, FastqParseErrors } from './formats/fastq/record.js';
export { fastqFormat } from './formats/fastq/commands.js';
export type { FastqStats } from './formats/fastq/stats.js';

// BAM.
export { statsBam, headerBam, readHeaderFromFile, type BamRunOptions, type BamStatsResult } from './formats/bam/pipeline.js';
export { convertBam, type BamConvertOptions, type BamConvertResult, type BamOutputFormat } from './formats/bam/convert.js';
export { bamFormat } from './formats/bam/cli.js';
export type { BamHeader, BamReference } from './formats/bam/header.js';

// File-system scans.
export { importScan, type FsscanImportOptions, type FsscanImportSummary } from './formats/fsscan/import.js';
export { ScanDb, parseSize as parseScanSize, parseDateArg as parseScanDate, type DirectoryQuery, type DirectoryRow } from './formats/fsscan/query.js';
export type { ScanFormat } from './formats/fsscan/parse.js';
export { fsscanFormat } from './formats/fsscan/commands.js';

// Code graphs.
export { indexCode, type CodeIndexOptions, type CodeIndexSummary } from './formats/code/index-run.js';
export { codeFormat } from './formats/code/commands.js';
export { callers, callees, blastRadius, search as searchCode, show as showEntity, cycles as codeCycles, stats as codeStats, AmbiguousName, type EntityRef, type WalkAnswer, type Hop, type ShowAnswer } from './formats/code/graph-queries.js';
export { serveGraph } from './formats/code/serve.js';
export { openStore as openCodeStore, parseStoreTarget, type CodeStore, type StoreTarget } from './sinks/code-store.js';
