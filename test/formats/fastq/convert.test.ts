import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { convertFastq } from '../../../src/formats/fastq/convert.js';
import { ErrorLog } from '../../../src/engine/error-log.js';
import { syntheticFastq } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fastq-conv-'));
const input = join(dir, 'in.fq');
const text = syntheticFastq(5000, 21) + '@bad\nAC\n+\nI\n' + syntheticFastq(10, 22);
writeFileSync(input, text);

function rows(t: Table): string[] {
  return Array.from({ length: t.numRows }, (_, i) => JSON.stringify(t.get(i)!.toJSON()));
}

test('Arrow IPC and Parquet hold the same rows, -j 1 = -j 3, bad records left out', async () => {
  const errorLog = new ErrorLog();
  const a1 = await convertFastq({ input, output: join(dir, 'a1.arrow'), threads: 1, chunkSize: 65_536, errorLog });
  assert.equal(a1.written, 5010);
  assert.equal(a1.rejected, 1);
  assert.equal(errorLog.total, 1);
  await convertFastq({ input, output: join(dir, 'a3.arrow'), threads: 3, chunkSize: 65_536, batchSize: 1000 });
  await convertFastq({ input, output: join(dir, 'p.parquet'), threads: 2, chunkSize: 65_536, batchSize: 1000 });
  const t1 = tableFromIPC(readFileSync(join(dir, 'a1.arrow')));
  const t3 = tableFromIPC(readFileSync(join(dir, 'a3.arrow')));
  const tp = tableFromIPC(pw.readParquet(readFileSync(join(dir, 'p.parquet'))).intoIPCStream());
  assert.deepEqual(t1.schema.fields.map((f) => f.name), ['id', 'description', 'sequence', 'quality']);
  assert.deepEqual(rows(t3), rows(t1));
  assert.deepEqual(rows(tp), rows(t1));
  assert.deepEqual(t1.get(0)!.toJSON(), { id: 'r0', description: '', sequence: t1.get(0)!.sequence, quality: t1.get(0)!.quality });
  assert.ok(t3.batches.every((b) => b.numRows <= 1000));
});

test('--limit stops early; a failed run leaves no output', async () => {
  const s = await convertFastq({ input, output: join(dir, 'l.arrow'), threads: 2, chunkSize: 65_536, limit: 123 });
  assert.equal(s.written, 123);
  assert.equal(tableFromIPC(readFileSync(join(dir, 'l.arrow'))).numRows, 123);
  await assert.rejects(convertFastq({ input, output: join(dir, 'x.arrow'), errorLog: new ErrorLog({ maxErrors: 0 }) }), /TOO_MANY|more than 0/);
  assert.ok(!readdirSync(dir).some((f) => f.startsWith('x.arrow') || f.includes('threadmill-tmp')));
  await assert.rejects(convertFastq({ input, output: join(dir, 'x.csv') }), /use \.parquet/);
});
