/**
 * Many inputs on the engine's one scheduler: values in item order whatever -j and batch size,
 * RunStats, progress and the error log as for byte ranges, --max-errors, and an abort that stops
 * the run without touching the sink again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runManyInputs, planItems } from '../../src/engine/many-inputs.js';
import { ErrorLog } from '../../src/engine/error-log.js';
import { ProgressModel } from '../../src/engine/progress.js';
import type { LocatedError } from '../../src/engine/run-types.js';
import type { ItemsOptions, TestItem } from './fixtures/items-task.js';

const taskModule = new URL('./fixtures/items-task.js', import.meta.url);
const items: TestItem[] = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, n: i, weight: 1 + (i * 7919) % 500, bytes: i % 50, bad: i % 37 === 4 }));

async function run(threads: number, batchWeight: number, errorLog = new ErrorLog()): Promise<{ values: string[]; errors: LocatedError[]; stats: Awaited<ReturnType<typeof runManyInputs>>; done: number; total: number | null }> {
  const values: string[] = [];
  const errors: LocatedError[] = [];
  let done = 0;
  let total: number | null = null;
  const progress = new ProgressModel((s) => { done = s.bytesDone; total = s.bytesTotal; });
  const stats = await runManyInputs<ItemsOptions, TestItem, string>({
    taskModule, taskOptions: {}, items, threads, batchWeight, errorLog, progress,
    onBatch(batch, chunk) {
      values.push(...batch);
      errors.push(...chunk.errors);
    },
  });
  return { values, errors, stats, done, total };
}

test('values in item order for any -j and batch weight; stats, progress and errors as for byte ranges', async () => {
  const expected = items.map((it) => `${it.name}=${it.n * it.n}`);
  const bad = items.filter((it) => it.bad).map((it) => ({ category: 'bad_item', reason: 'marked bad', offset: 3, line: 2, input: it.name }));
  const bytes = items.reduce((n, it) => n + (it.bytes ?? 0), 0);
  for (const [threads, weight] of [[1, 1 << 20], [2, 300], [3, 1]]) {
    const log = new ErrorLog();
    const r = await run(threads!, weight!, log);
    assert.deepEqual(r.values, expected, `-j ${threads}, batch weight ${weight}`);
    assert.deepEqual(r.errors, bad, 'an item error keeps its own input, line and offset');
    assert.equal(log.count('bad_item'), bad.length);
    assert.equal(r.stats.records, items.length);
    assert.equal(r.stats.errors, bad.length);
    assert.equal(r.stats.bytes, bytes);
    assert.equal(r.stats.chunks, [...planItems(items, weight!, 256)].length);
    assert.deepEqual([r.done, r.total], [bytes, bytes], 'progress counts each item\'s bytes once');
  }
});

test('--max-errors fails the run with TOO_MANY_ERRORS naming the item', async () => {
  await assert.rejects(run(2, 400, new ErrorLog({ maxErrors: 2 })), (err: Error & { code?: string }) => err.code === 'TOO_MANY_ERRORS' && /f78:2 \(byte 3\)/.test(err.message));
});

test('an abort stops the run promptly: INTERRUPTED, and no batch is handed over after it', async () => {
  const ac = new AbortController();
  let batches = 0;
  let afterAbort = 0;
  let abortedAt = 0;
  const running = runManyInputs<ItemsOptions, TestItem, string>({
    taskModule, taskOptions: { busyMs: 20 }, items, threads: 2, batchItems: 5, signal: ac.signal,
    onBatch() {
      if (ac.signal.aborted) afterAbort++;
      if (++batches === 2) {
        abortedAt = performance.now();
        ac.abort('SIGINT');
      }
    },
  });
  await assert.rejects(running, { code: 'INTERRUPTED' });
  assert.equal(afterAbort, 0);
  // The rest (290 items of 20 ms) would take ~3 s on two threads; the workers stop between two items.
  assert.ok(performance.now() - abortedAt < 1500, `stopped ${Math.round(performance.now() - abortedAt)} ms after the abort`);
});
