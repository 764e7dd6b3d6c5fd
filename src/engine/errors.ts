import { exitStatusOf, isErrorCode, type ErrorCode } from './error-catalogue.js';

export type { ErrorCode } from './error-catalogue.js';

/**
 * Fatal errors: a stable `code` from the catalogue (error-catalogue.ts) that scripts and tests
 * check, a one-line message naming what to fix, and the exit code the CLI returns (the
 * catalogue's unless `exitCode` is given). Record errors are not exceptions; see errors-log.ts.
 */
export class ThreadmillError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThreadmillError';
    this.code = code;
    this.exitCode = options.exitCode ?? exitStatusOf(code);
  }
}

/** Bad command line: exit code 2. */
export class UsageError extends ThreadmillError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** The run was stopped by SIGINT/SIGTERM or an AbortSignal; outputs were rolled back. */
export class InterruptedError extends ThreadmillError {
  constructor(signal: string) {
    super('INTERRUPTED', `interrupted by ${signal}; no output was changed`, signal === 'SIGTERM' ? { exitCode: 143 } : {});
    this.name = 'InterruptedError';
  }
}

/** Serializable form of any error, for crossing the worker boundary. */
export interface ErrorShape { name: string; message: string; code?: string; stack?: string; fields?: Record<string, unknown> }

export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) if (typeof v === 'number' || typeof v === 'string') fields[k] = v;
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack, fields };
  }
  return { name: 'Error', message: String(err) };
}

/**
 * Rebuilds a worker-side error on the main thread, keeping its fields, and its code when the
 * catalogue has it. Any other code (a system one: ENOSPC, EACCES, SQLITE_FULL) becomes
 * WORKER_FAILED, the original kept as the `cause` so that fatal.ts can still tell a full disk.
 */
export function fromErrorShape(shape: ErrorShape, context: string): ThreadmillError {
  const code = isErrorCode(shape.code) ? shape.code : 'WORKER_FAILED';
  const cause = code === shape.code ? undefined : Object.assign(new Error(shape.message), shape.fields ?? {}, { name: shape.name });
  const err = new ThreadmillError(code, `${context}: ${shape.message}`, { cause });
  if (shape.stack) err.stack = `${err.name}: ${err.message}\n--- in worker ---\n${shape.stack}`;
  Object.assign(err, shape.fields ?? {}, { code });
  return err;
}
