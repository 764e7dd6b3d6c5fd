/**
 * Runs the FASTQ task on one input through the engine, with the wrapped-FASTQ safe mode: the head
 * of the input is sniffed, and wrapped (multi-line) input is read as a single chunk so that no
 * boundary has to be guessed (docs/decisions/0005-fastq-framing.md).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants as zc, gunzipSync } from 'node:zlib';
import { runChunks, type EngineOptions } from '../../engine/run.js';
import type { EngineHandle } from '../../engine/run-types.js';
import { ThreadmillError } from '../../engine/errors.js';
import type { OrderedChunk, RunStats } from '../../engine/run-types.js';
import { parseChunk } from './parse.js';
import type { FastqPayload, FastqTaskOptions } from './task.js';

export const taskModule = new URL(`./task${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** How much of an input's head is parsed to decide whether it is wrapped. */
const SNIFF_BYTES = 1 << 20;
/** "One chunk per input": the engine plans ranges and stream blocks of at most this size. */
export const WHOLE_INPUT = Number.MAX_SAFE_INTEGER;

/** The first SNIFF_BYTES of an input's decompressed data (null for stdin, which cannot be re-read). */
export function inputHead(path: string): Uint8Array | null {
  if (path === '-') return null;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null; // the engine reports a missing or unreadable input with its stable code
  }
  try {
    const raw = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, raw, 0, SNIFF_BYTES, 0);
    const head = raw.subarray(0, n);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      try {
        return gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, SNIFF_BYTES);
      } catch {
        return new Uint8Array(0);
      }
    }
    return head;
  } finally {
    closeSync(fd);
  }
}

/** Does the head of the input hold a valid record of more than 4 lines? */
export function looksWrapped(head: Uint8Array): boolean {
  const lastNl = head.lastIndexOf(0x0a);
  return lastNl >= 0 && parseChunk(head.subarray(0, lastNl + 1)).wrapped;
}

export interface FastqRunOptions extends Omit<EngineOptions<FastqTaskOptions, FastqPayload>, 'inputs' | 'taskModule' | 'taskOptions' | 'onChunk'> {
  /** Treat the input as wrapped (one chunk) without sniffing. */
  wrapped?: boolean;
}

/** Runs one input; `onChunk` sees chunks in input order. Returns the engine's stats and whether safe mode was used. */
export async function runFastq(input: string, taskOptions: FastqTaskOptions, opts: FastqRunOptions, onChunk: (c: OrderedChunk<FastqPayload>, engine: EngineHandle) => void | Promise<void>): Promise<RunStats & { wrapped: boolean }> {
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
      if (!wrapped && (sawWrapped || (c.payload.wrapped && c.index > 0))) throw wrappedLate(input);
      sawWrapped ||= c.payload.wrapped;
      return onChunk(c, engine);
    },
  });
  return { ...stats, wrapped };
}

function wrappedLate(input: string): ThreadmillError {
  const where = input === '-' ? 'stdin' : `${input}, past its first ${SNIFF_BYTES >> 20} MiB,`;
  return new ThreadmillError('FASTQ_WRAPPED', `${where} holds wrapped (multi-line) FASTQ records, whose chunk boundaries cannot be found in parallel; rerun with --wrapped (library: { wrapped: true })`);
}
