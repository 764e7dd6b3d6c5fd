/**
 * Record errors of a run: counted by category, written to the rejects file when asked (one JSON
 * object a line), and turned into a fatal TOO_MANY_ERRORS once `--max-errors` is exceeded.
 */
import { writeSync } from 'node:fs';
import { closeOutputSync, openOutputSync } from './atomic.js';
import { ThreadmillError } from './errors.js';
import type { LocatedError } from './run-types.js';

export interface ErrorLogOptions {
  /** Fail the run when more than this many records are rejected (default: never). */
  maxErrors?: number;
  /** Where to write rejected records (a temporary path; the caller renames it into place). */
  rejectsPath?: string;
  /** Called for the first `echo` errors, e.g. to print them on stderr. */
  onError?: (e: LocatedError) => void;
  echo?: number;
  /** Called once when the first error past `echo` arrives (e.g. to say where the rest go). */
  onMore?: () => void;
}

export class ErrorLog {
  readonly counts = new Map<string, number>();
  total = 0;
  private readonly fd: number | null;
  private pending: string[] = [];

  constructor(private readonly options: ErrorLogOptions = {}) {
    this.fd = options.rejectsPath ? openOutputSync(options.rejectsPath) : null;
  }

  add(e: LocatedError): void {
    this.total++;
    this.counts.set(e.category, (this.counts.get(e.category) ?? 0) + 1);
    if (this.total <= (this.options.echo ?? 0)) this.options.onError?.(e);
    else if (this.total === (this.options.echo ?? 0) + 1) this.options.onMore?.();
    if (this.fd !== null) {
      this.pending.push(JSON.stringify({ input: e.input, line: e.line ?? null, record: e.record ?? null, offset: e.offset, category: e.category, reason: e.reason, text: e.text ?? null }));
      if (this.pending.length >= 1024) this.flush();
    }
    const max = this.options.maxErrors;
    if (max !== undefined && this.total > max) {
      throw new ThreadmillError('TOO_MANY_ERRORS', `more than ${max} rejected records (last: ${describeError(e)}); raise --max-errors or fix the input`);
    }
  }

  count(category: string): number {
    return this.counts.get(category) ?? 0;
  }

  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    writeSync(this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeOutputSync(this.fd);
  }
}

/** `file:line (byte N): category: reason`, the one-line form used on stderr. */
export function describeError(e: LocatedError): string {
  const where = e.line !== undefined ? `${e.input}:${e.line}` : e.record !== undefined ? `${e.input} record ${e.record}` : e.input;
  return `${where} (byte ${e.offset}): ${e.category}: ${e.reason}`;
}
