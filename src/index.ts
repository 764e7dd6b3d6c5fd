/**
 * threadmill's library API. The engine (runChunks and the plug-in contract) for writing a format
 * of your own, and each format's typed entry points.
 *
 * @example
 * import { convertNostr, ParallelParser } from 'threadmill';
 * const summary = await convertNostr({ inputs: ['events.jsonl'], outDir: 'pb_data' });
 * const records = await ParallelParser.fromFile('reads.fq').withThreads(4).parseParallel();
 */
export { runChunks, defaultThreads, DEFAULT_CHUNK_SIZE, type EngineOptions } from './engine/run.js';
export { defineTask, lineFraming, type Framing, type FormatTask, type ChunkContext, type ChunkResult, type RecordError, type CallResult } from './engine/plugin.js';
export type { OrderedChunk, RunStats, LocatedError, EngineHandle } from './engine/run-types.js';
export { ThreadmillError, UsageError, InterruptedError } from './engine/errors.js';
export { ErrorLog, describeError } from './engine/error-log.js';
export { OutputTransaction, recoverDirectory } from './engine/atomic.js';
export { checkFileOutput, checkDirectoryOutput, type OutputCheck } from './engine/output-target.js';
export { lockDirectory, lockFile, type OutputLock } from './engine/lock.js';
export { createProgress, ProgressModel, type ProgressMode, type ProgressSnapshot } from './engine/progress.js';
export { parseShard, shareRanges, shareOfList, SHARD_INDEX_VARIABLES, type Shard, type ByteRange } from './engine/shard.js';
export type { ShareCoverage } from './engine/share-plan.js';
export { makeManifest, inputIdentity, type PartManifest, type InputIdentity } from './engine/manifest.js';
export { writePart, readParts, readPart, type Part } from './engine/parts.js';
export { mergeNostr, type MergeSummary as NostrMergeSummary } from './formats/nostr/merge.js';

export { convertNostr, type ConvertOptions as NostrConvertOptions, type ConvertSummary as NostrConvertSummary } from './formats/nostr/pipeline.js';
export { checkLine, type NostrEvent, type ValidationOptions, type RejectCategory } from './formats/nostr/event.js';
export { readPbGz, eventToJson } from './formats/nostr/pb-reader.js';
export { rebuildIndex } from './formats/nostr/index-rebuild.js';
export { verifyIndex, type VerifyReport, type VerifyFinding, type VerifyProblem } from './formats/nostr/index-verify.js';
export { IdSet } from './formats/nostr/id-set.js';

export * from './formats/fastq/index.js';

export { statsBam, headerBam, readHeaderFromFile, type BamRunOptions, type BamStatsResult } from './formats/bam/pipeline.js';
export { convertBam, outputFormat, type BamConvertOptions, type BamConvertResult, type BamOutputFormat } from './formats/bam/convert.js';
export type { BamHeader, BamReference } from './formats/bam/header.js';
export { ArrowIpcFileWriter, piecesOf, type ArrowIpcOptions, type PieceBatch, type PieceBuffer, type PieceDictionary } from './sinks/arrow-pieces.js';
export { ParquetWriter, type ParquetOptions } from './sinks/parquet.js';

export { importScan, type FsscanImportOptions, type FsscanImportSummary } from './formats/fsscan/import.js';
export { ScanDb, parseSize as parseScanSize, parseDateArg as parseScanDate, type DirectoryQuery, type DirectoryRow } from './formats/fsscan/query.js';
export type { ScanFormat } from './formats/fsscan/parse.js';

export { indexCode, type CodeIndexOptions, type CodeIndexSummary } from './formats/code/index-run.js';
export { callers, callees, blastRadius, search as searchCode, show as showEntity, cycles as codeCycles, stats as codeStats, AmbiguousName, type EntityRef, type WalkAnswer, type Hop, type ShowAnswer } from './formats/code/graph-queries.js';
export { serveGraph } from './formats/code/serve.js';
export { openStore as openCodeStore, parseStoreTarget, type CodeStore, type StoreTarget } from './sinks/code-store.js';
export { runManyInputs, defineItemsTask, planBatches, type ManyInputsOptions, type ItemsTask } from './engine/many-inputs.js';
