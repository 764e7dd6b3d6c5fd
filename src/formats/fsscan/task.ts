/** The fsscan task module: each worker folds its chunk's lines into a DirPartial (aggregate.ts). */
import { defineTask, lineFraming } from '../../engine/plugin.js';
import { aggregateChunk, partialBuffers, type AggregateOptions, type DirPartial } from './aggregate.js';

export default defineTask<AggregateOptions, DirPartial>({
  framing: lineFraming,
  processChunk(bytes, _ctx, opts) {
    const { partial, errors, lines, records } = aggregateChunk(bytes, opts);
    return {
      payload: partial,
      transfer: partialBuffers(partial),
      records,
      lines,
      errors: errors.map((e) => ({ category: 'parse_error', reason: e.reason, offset: e.offset, line: e.line, text: e.text })),
    };
  },
});
