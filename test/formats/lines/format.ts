/**
 * A test-only format declared for the runner (src/cli/command-spec.ts): everything around its two
 * commands — rejects, --max-errors, progress, --json, --shard, merge — comes from the spec.
 */
import { Float64, makeData, RecordBatch, Schema, Struct, Field, Utf8, vectorFromArray } from 'apache-arrow';
import { defineCommand, type CommonFlags, type FormatSpec, type RunContext } from '../../../src/cli/command-spec.js';
import { runChunks } from '../../../src/engine/run.js';
import { OutputTransaction } from '../../../src/engine/atomic.js';
import { moduleBeside } from '../../../src/engine/plugin.js';
import { normalChunkSize } from '../../../src/engine/manifest.js';
import type { ShareCoverage } from '../../../src/engine/share-plan.js';
import { openRecordBatchSink } from '../../../src/sinks/record-batch-sink.js';
import { tableExtensionOf } from '../../../src/sinks/table-file.js';
import type { LinesOptions, LinesPartial, LinesPayload } from './task.js';

interface Flags extends CommonFlags { chunkSize?: number; output?: string }
interface Result { partial: LinesPartial; rejected: number; share: ShareCoverage[] | null; output?: string }

const schema = new Schema([new Field('name', new Utf8(), false), new Field('value', new Float64(), false)]);
const batchOf = (names: string[], values: Float64Array): RecordBatch => {
  const children = [vectorFromArray(names, new Utf8()).data[0]!, makeData({ type: new Float64(), length: values.length, data: values })];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: names.length, nullCount: 0, children }));
};

async function run(ctx: RunContext<Flags>, mode: LinesOptions['mode'], onPayload: (p: LinesPayload, engine: import('../../../src/engine/run-types.js').EngineHandle) => void | Promise<void>, onEnd?: (engine: import('../../../src/engine/run-types.js').EngineHandle) => Promise<void>): Promise<ShareCoverage[] | null> {
  const progress = ctx.progress();
  const stats = await runChunks<LinesOptions, LinesPayload>({
    inputs: ctx.inputs, taskModule: moduleBeside(import.meta.url, './task'), taskOptions: { mode }, threads: ctx.flags.threads, chunkSize: ctx.flags.chunkSize,
    shard: ctx.shard, errorLog: ctx.errorLog, signal: ctx.signal, warn: ctx.warn, progress, onChunk: (c, engine) => onPayload(c.payload, engine), onEnd,
  });
  progress.finish();
  return stats.share ?? null;
}

const add = (a: LinesPartial, b: LinesPartial): LinesPartial => ({ records: a.records + b.records, sum: a.sum + b.sum });
const summaryOf = (r: Result): object => ({ records: r.partial.records, sum: r.partial.sum, rejected: r.rejected, ...(r.output ? { output: r.output } : {}) });
const read = (f: Flags): Record<string, unknown> => ({ chunkSize: normalChunkSize(f.chunkSize) });

const stats = defineCommand<Flags, Result, LinesPartial>({
  name: 'stats',
  description: 'count the valid records and add their values',
  inputs: { name: 'inputs', help: 'text files', many: true },
  options: (cmd) => cmd.option('--chunk-size <bytes>', 'target chunk size', Number),
  async run(ctx) {
    let partial = { records: 0, sum: 0 };
    const share = await run(ctx, 'stats', (p) => { if (p.kind === 'stats') partial = add(partial, p.partial); });
    return { partial, rejected: ctx.errorLog.total, share };
  },
  counts: (r) => ({ records: r.partial.records, rejected: r.rejected }),
  report: (r) => ({ summary: summaryOf(r), stdout: `records\t${r.partial.records}\nsum\t${r.partial.sum}\n`, note: r.rejected > 0 ? `threadmill lines stats: ${r.rejected} bad record(s) left out` : undefined }),
  shard: {
    manifestOptions: read,
    share: (r) => r.share,
    part: { kind: 'summary', partialOf: (r) => r.partial, toJson: (p) => p, fromJson: (x) => x as LinesPartial, combine: add, resultOf: (p, data) => ({ partial: p, rejected: Number(data.rejected), share: null }) },
  },
});

const convert = defineCommand<Flags, Result>({
  name: 'convert',
  description: 'the valid records as an Arrow IPC file (name, value)',
  inputs: { name: 'inputs', help: 'text files', many: true },
  options: (cmd) => cmd.option('--chunk-size <bytes>', 'target chunk size', Number),
  output: { flags: '-o, --output <file>', help: 'the .arrow file', required: true, of: (f) => f.output },
  async run(ctx) {
    const tx = new OutputTransaction();
    const sink = openRecordBatchSink(ctx.output!, tx.tempFor(ctx.output!), { schema, empty: () => batchOf([], new Float64Array(0)), batchSize: 1000, threads: 1 });
    let partial = { records: 0, sum: 0 };
    try {
      const share = await run(ctx, 'convert', async (p, engine) => {
        if (p.kind !== 'convert') return;
        partial = add(partial, { records: p.names.length, sum: p.values.reduce((a, b) => a + b, 0) });
        await sink.write(batchOf(p.names, p.values), engine);
      }, async (engine) => { await sink.close(engine); });
      tx.commit();
      return { partial, rejected: ctx.errorLog.total, share, output: ctx.output };
    } catch (err) {
      sink.abort();
      tx.abort();
      throw err;
    }
  },
  counts: (r) => ({ records: r.partial.records, rejected: r.rejected }),
  report: (r) => ({ summary: summaryOf(r), title: `threadmill lines convert: ${r.output}`, rows: () => [['records', r.partial.records], ['rejected', r.rejected]] }),
  shard: { manifestOptions: (f) => ({ ...read(f), ext: tableExtensionOf(f.output!) }), share: (r) => r.share, part: { kind: 'table' } },
});

export const linesFormat: FormatSpec = { name: 'lines', description: 'name,value lines (a test-only format)', commands: [stats, convert] };
