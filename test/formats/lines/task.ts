/**
 * The worker half of the test-only `lines` format: records are `name,value` lines (value an
 * integer). stats folds a chunk into a count and a sum; convert returns the chunk's columns.
 */
import { defineTask, lineFraming, type RecordError } from '../../../src/engine/plugin.js';

export interface LinesOptions { mode: 'stats' | 'convert' }
export interface LinesPartial { records: number; sum: number }
export type LinesPayload = { kind: 'stats'; partial: LinesPartial } | { kind: 'convert'; names: string[]; values: Float64Array };

export default defineTask<LinesOptions, LinesPayload>({
  framing: lineFraming,
  processChunk(bytes, _ctx, options) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const names: string[] = [];
    const values: number[] = [];
    const errors: RecordError[] = [];
    let offset = 0;
    let line = 0;
    for (const raw of text.split('\n')) {
      line++;
      const at = offset;
      offset += Buffer.byteLength(raw) + 1;
      if (raw === '' && offset > bytes.length) break;
      const fields = raw.split(',');
      const value = Number(fields[1]);
      if (fields.length !== 2 || fields[1] === '' || !Number.isSafeInteger(value)) {
        errors.push({ category: 'invalid_field', reason: `expected name,integer, got ${fields.length} field(s)`, offset: at, line, text: raw });
        continue;
      }
      names.push(fields[0]!);
      values.push(value);
    }
    const records = names.length + errors.length;
    const payload: LinesPayload = options.mode === 'stats'
      ? { kind: 'stats', partial: { records: names.length, sum: values.reduce((a, b) => a + b, 0) } }
      : { kind: 'convert', names, values: Float64Array.from(values) };
    return { payload, transfer: payload.kind === 'convert' ? [payload.values.buffer as ArrayBuffer] : [], records, lines: line - 1, errors };
  },
});
