/**
 * Runs the FASTQ task on one input through the engine, with the wrapped-FASTQ safe mode: the head
 * of the input is sniffed, and wrapped (multi-line) input is read as a single chunk so that no
 * boundary has to be guessed (docs/decisions/0005-fastq-framing.md).
 */
import { moduleBeside } from '../../engine/plugin.js';
import { runChunks, validateRunOptions, type EngineOptions } from '../../engine/run.js';
import { readHead } from '../../engine/source.js';
import type { EngineHandle } from '../../engine/run-types.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import type { OrderedChunk, RunStats } from '../../engine/run-types.js';
import { parseChunk } from './parse.js';
import type { FastqPayload, FastqTaskOptions } from './task.js';

export const taskModule = moduleBeside(import.meta.url, './task');

/** How much of an input's head is parsed to decide whether it is wrapped. */
const SNIFF_BYTES = 1 << 20;
/** "One chunk per input": the engine plans ranges and stream blocks of at most this size. */
export const WHOLE_INPUT = Number.MAX_SAFE_INTEGER;

/**
 * The first SNIFF_BYTES of an input's decompressed data; null for stdin, pipes and devices, which
 * cannot be read twice (those are read in stream blocks, and wrapped records stop the run with
 * FASTQ_WRAPPED unless --wrapped is given).
 */
export function inputHead(path: string): Uint8Array | null {
  return readHead(path, SNIFF_BYTES);
}

/** Does the head of the input hold a valid record of more than 4 lines? */
export function looksWrapped(head: Uint8Array): boolean {
  const lastNl = head.lastIndexOf(0x0a);
  return lastNl >= 0 && parseChunk(head.subarray(0, lastNl + 1)).wrapped;
}

export interface FastqRunOptions extends Omit<EngineOptions<FastqTaskOptions, FastqPayload>, 'inputs' | 'taskModule' | 'taskOptions' | 'onChunk'> {
  /** Treat the input as wrapped (one chunk) without sniffing. */
  wrapped?: boolean;
  /**
   * A record cut short by the end of the input stops the run with FASTQ_TRUNCATED (file, record,
   * byte offset) unless `allowTruncated`, which keeps the records before it with a warning. Off,
   * the cut record is a record error like any other (the parser API's choice).
   */
  failTruncatedRecord?: boolean;
}

/** The FASTQ options a library caller may get wrong (the CLI's parsers check the same). */
export function validateFastqOptions(o: { phred?: unknown; wrapped?: unknown }): void {
  if (o.phred !== undefined && o.phred !== 33 && o.phred !== 64) throw new UsageError(`phred must be 33 or 64, got ${String(o.phred)}`);
  if (o.wrapped !== undefined && typeof o.wrapped !== 'boolean') throw new UsageError(`wrapped must be true or false, got ${String(o.wrapped)}`);
}

/** Runs one input; `onChunk` sees chunks in input order. Returns the engine's stats and whether safe mode was used. */
export async function runFastq(input: string, taskOptions: FastqTaskOptions, opts: FastqRunOptions, onChunk: (c: OrderedChunk<FastqPayload>, engine: EngineHandle) => void | Promise<void>): Promise<RunStats & { wrapped: boolean }> {
  validateFastqOptions({ phred: taskOptions.phred, wrapped: opts.wrapped });
  validateRunOptions({ inputs: [input], threads: opts.threads, chunkSize: opts.chunkSize, windowPerWorker: opts.windowPerWorker });
  const head = opts.wrapped ? null : inputHead(input);
  const wrapped = opts.wrapped === true || (head !== null && looksWrapped(head));
  let sawWrapped = false;
  const stats = await runChunks<FastqTaskOptions, FastqPayload>({
    ...opts,
    inputs: [input],
    taskModule,
    taskOptions,
    chunkSize: wrapped ? WHOLE_INPUT : opts.chunkSize,
    onChunk(c, engine) {
      // A wrapped record in the only chunk is harmless (no boundary was guessed); anywhere else the
      // boundaries around it may be wrong, so the run stops rather than return doubtful records.
      if (!wrapped && (sawWrapped || (c.payload.wrapped && c.index > 0))) throw wrappedLate(input, head !== null);
      sawWrapped ||= c.payload.wrapped;
      if (opts.failTruncatedRecord) checkTruncated(c, opts);
      return onChunk(c, engine);
    },
  });
  return { ...stats, wrapped };
}

/** A silently dropped last record looked like a complete run; it is a failure unless asked for. */
function checkTruncated(c: OrderedChunk<FastqPayload>, opts: FastqRunOptions): void {
  const cut = c.errors.find((e) => e.category === 'truncated');
  if (!cut) return;
  const where = `${cut.input === '-' ? 'stdin' : cut.input}: record ${cut.record ?? '?'} (line ${cut.line ?? '?'}, byte ${cut.offset})`;
  if (!opts.allowTruncated) throw new ThreadmillError('FASTQ_TRUNCATED', `${where}: ${cut.reason}; the input is cut short — rerun with --allow-truncated to keep the records before it`);
  opts.warn?.(`${where}: ${cut.reason}; kept the ${(cut.record ?? 1) - 1} records before it (--allow-truncated)`);
}

function wrappedLate(input: string, sniffed: boolean): ThreadmillError {
  const where = input === '-' ? 'stdin' : sniffed ? `${input}, past its first ${SNIFF_BYTES >> 20} MiB,` : input;
  return new ThreadmillError('FASTQ_WRAPPED', `${where} holds wrapped (multi-line) FASTQ records, whose chunk boundaries cannot be found in parallel; rerun with --wrapped (library: { wrapped: true })`);
}
