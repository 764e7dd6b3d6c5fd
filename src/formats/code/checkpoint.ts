/**
 * SQLite work is synchronous: a SIGINT is only seen when the event loop turns. Between the steps
 * of a graph's end, and between pages of resolution (each may take seconds on a large tree), it
 * turns, and an abort stops the run.
 */
import { InterruptedError } from '../../engine/errors.js';

export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  if (signal.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
}
