/**
 * --shard I/N in the engine: parsing, shares that tile the input on the chunk grid, and the
 * records of all shards together being exactly those of one unsharded run (plain, gzip, BGZF,
 * several inputs, more shards than records); part manifests and the merge-side checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runChunks } from '../../src/engine/run.js';
import { ErrorLog } from '../../src/engine/error-log.js';
import { parseShard, shareOfList, shareRanges, type Shard } from '../../src/engine/shard.js';
import { makeManifest } from '../../src/engine/manifest.js';
import { readParts, writePart } from '../../src/engine/parts.js';
import type { LocatedError } from '../../src/engine/run-types.js';
import { bgzf } from '../formats/bam/raw.js';
import type { LinesPayload } from './fixtures/lines-task.js';

const taskModule = new URL('./fixtures/lines-task.js', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tm-shard-'));
const CHUNK = 1 << 16;

test('parseShard: I/N, auto/N from each scheduler variable in order, usage errors (exit 2)', () => {
  assert.deepEqual(parseShard('3/16', {}), { index: 3, count: 16 });
  assert.deepEqual(parseShard('auto/8', { JOB_COMPLETION_INDEX: '5' }), { index: 5, count: 8 });
  assert.deepEqual(parseShard('auto/8', { AWS_BATCH_JOB_ARRAY_INDEX: '7' }), { index: 7, count: 8 });
  assert.deepEqual(parseShard('auto/8', { SLURM_ARRAY_TASK_ID: '1', JOB_COMPLETION_INDEX: '5' }), { index: 1, count: 8 });
  for (const [spec, env] of [['auto/4', {}], ['auto/4', { SLURM_ARRAY_TASK_ID: '4' }], ['4/4', {}], ['-1/4', {}], ['1/0', {}], ['1', {}], ['a/b', {}], ['auto/4', { SLURM_ARRAY_TASK_ID: 'x' }]] as const) {
    assert.throws(() => parseShard(spec, env), (e: { code?: string; exitCode?: number }) => e.code === 'USAGE' && e.exitCode === 2, `${spec} ${JSON.stringify(env)}`);
  }
});

test('shareRanges: shares tile every input, on the chunk grid, balanced by bytes', () => {
  const sizes = [5 * CHUNK + 17, 0, 3, 11 * CHUNK];
  for (const n of [1, 2, 3, 7, 40]) {
    const at = sizes.map(() => 0);
    let longest = 0;
    for (let i = 0; i < n; i++) {
      const r = shareRanges(sizes, { index: i, count: n }, sizes.map(() => CHUNK));
      let bytes = 0;
      r.forEach((x, k) => {
        if (x.end <= x.start) return;
        assert.equal(x.start, at[k], `N=${n} shard ${i} input ${k} starts where the last share ended`);
        assert.equal(x.start % CHUNK, 0);
        at[k] = x.end;
        bytes += x.end - x.start;
      });
      longest = Math.max(longest, bytes);
    }
    assert.deepEqual(at, sizes, `N=${n}: every byte covered`);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(longest <= Math.ceil(total / n) + CHUNK, `N=${n}: no share more than a chunk above its fair size`);
  }
  const files = [10, 0, 300, 5, 5, 80];
  for (const n of [1, 2, 3, 7, 9]) {
    const all = Array.from({ length: n }, (_, i) => shareOfList(files, { index: i, count: n })).flat();
    assert.deepEqual(all, files.map((_, i) => i), `N=${n}: each file in exactly one share, in order`);
  }
});

/** The lines a run hands over, in order, and its located errors. */
async function linesOf(inputs: string[], shard?: Shard): Promise<{ text: string; errors: LocatedError[]; firstIndex: number }> {
  let text = '';
  let firstIndex = -1;
  const errors: LocatedError[] = [];
  await runChunks<object, LinesPayload>({
    inputs, taskModule, taskOptions: {}, threads: 1, chunkSize: CHUNK, shard, errorLog: new ErrorLog({ onError: (e) => errors.push(e), echo: 1e9 }),
    onChunk(c) {
      if (firstIndex < 0) firstIndex = c.index;
      text += Buffer.from(c.payload.text).toString('latin1');
    },
  });
  return { text, errors, firstIndex };
}

test('the shards of plain, gzip, BGZF and several inputs hold exactly the unsharded records', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`${i}:${'x'.repeat(i % 97)}${i % 4999 === 7 ? ' BAD' : ''}\n`);
  const data = Buffer.from(lines.join(''));
  const plain = join(dir, 'lines.txt');
  const gz = join(dir, 'lines.txt.gz');
  const bgz = join(dir, 'lines.bgz');
  const tiny = join(dir, 'tiny.txt');
  writeFileSync(plain, data);
  writeFileSync(gz, gzipSync(data));
  writeFileSync(bgz, bgzf(data, 30_000));
  writeFileSync(tiny, 'a\nb BAD\nc\n');
  // N = 1 and 2 are covered by the pipelines' tests; each run here starts a worker, so few runs.
  for (const [inputs, counts] of [[[plain], [3, 7]], [[gz], [3]], [[bgz], [3]], [[tiny, plain, gz], [12]]] as const) {
    const whole = await linesOf([...inputs]);
    for (const n of counts) {
      let text = '';
      const offsets: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await linesOf([...inputs], { index: i, count: n });
        text += r.text;
        offsets.push(...r.errors.map((e) => `${e.input}@${e.offset}`));
      }
      assert.ok(text === whole.text, `${inputs.join('+')} N=${n}: the shards' records differ from the unsharded run's`);
      assert.deepEqual(offsets, whole.errors.map((e) => `${e.input}@${e.offset}`), `${inputs.join('+')} N=${n}: error offsets absolute`);
    }
  }
  const last = await linesOf([plain], { index: 2, count: 3 });
  assert.ok(last.firstIndex > 0, 'a later share keeps its chunks\' numbers in the unsharded plan');
});

test('parts: written atomically with a manifest; merge checks one run, every index once', async () => {
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'x\n'.repeat(1000));
  const part = (i: number, n: number, options: Record<string, unknown> = { a: 1 }): Promise<void> =>
    writePart(join(dir, 'parts', String(i)), makeManifest({ format: 'test', command: 'count', options, inputs: [input], shard: { index: i, count: n } }), (d) => writeFileSync(join(d, 'data'), String(i)));
  for (let i = 0; i < 3; i++) await part(i, 3);
  const paths = [0, 1, 2].map((i) => join(dir, 'parts', String(i)));
  assert.deepEqual(readParts([paths[2]!, paths[0]!, paths[1]!], 'test').map((p) => p.manifest.shard.index), [0, 1, 2]);
  await part(1, 3);
  assert.deepEqual(readdirSync(join(dir, 'parts')).sort(), ['0', '1', '2'], 'a part rewritten in place leaves no temporary');
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as { code: string }).code;
    }
    return 'none';
  };
  assert.equal(code(() => readParts([paths[0]!, paths[2]!], 'test')), 'PART_MISSING');
  assert.equal(code(() => readParts([paths[0]!, paths[1]!, paths[1]!, paths[2]!], 'test')), 'PART_DUPLICATE');
  assert.equal(code(() => readParts(paths, 'fastq')), 'PART_MISMATCH');
  assert.equal(code(() => readParts([...paths, join(dir, 'nowhere')], 'test')), 'PART_MISSING');
  mkdirSync(join(dir, 'not-a-part'), { recursive: true });
  assert.equal(code(() => readParts([...paths, join(dir, 'not-a-part')], 'test')), 'PART_INVALID');
  await part(1, 3, { a: 2 });
  assert.equal(code(() => readParts(paths, 'test')), 'PART_MISMATCH');
  await part(1, 4);
  assert.equal(code(() => readParts(paths, 'test')), 'PART_MISMATCH');
  await assert.rejects(writePart(join(dir, 'parts', 'failed'), makeManifest({ format: 'test', command: 'count', options: {}, inputs: [input], shard: { index: 0, count: 1 } }), () => {
    throw new Error('shard failed');
  }), /shard failed/);
  assert.ok(!existsSync(join(dir, 'parts', 'failed')) && !readdirSync(join(dir, 'parts')).some((n) => n.startsWith('.')), 'a failed shard leaves nothing');
});
