import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync, spawnSync, spawn } from 'node:child_process';
import { runChunks } from '../../src/engine/run.js';
import { ErrorLog } from '../../src/engine/error-log.js';
import type { LocatedError } from '../../src/engine/run-types.js';
import type { LinesPayload } from './fixtures/lines-task.js';

const taskModule = new URL('./fixtures/lines-task.js', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tm-engine-'));

/** Lines of varied length (some longer than a chunk), some BAD, no trailing newline. */
function sample(): string {
  const lines: string[] = [];
  let x = 7;
  for (let i = 0; i < 5000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const len = i === 1234 ? 300_000 : x % 200;
    lines.push(`${i}:${'abcdefghij'.repeat(len / 10 + 1).slice(0, len)}${i % 997 === 5 ? 'BAD' : ''}`);
  }
  return lines.join('\n');
}

async function collect(inputs: string[], threads: number, chunkSize = 1 << 16): Promise<{ text: string; errors: LocatedError[]; records: number; order: number[] }> {
  let text = '';
  const order: number[] = [];
  const errors: LocatedError[] = [];
  const errorLog = new ErrorLog();
  const stats = await runChunks<{ failOn?: string }, LinesPayload>({
    inputs, taskModule, taskOptions: {}, threads, chunkSize, errorLog,
    onChunk(c) {
      order.push(c.index);
      text += Buffer.from(c.payload.text).toString('latin1');
      errors.push(...c.errors);
    },
  });
  assert.equal(errorLog.total, errors.length);
  return { text, errors, records: stats.records, order };
}

const input = sample();
const plain = join(dir, 'in.txt');
writeFileSync(plain, input);

test('every byte of a plain file comes back once, in order, whatever -j', async () => {
  const one = await collect([plain], 1);
  const four = await collect([plain], 4);
  assert.equal(one.text, input);
  assert.equal(four.text, input);
  assert.equal(one.records, 5000);
  assert.deepEqual(four.order, [...four.order].sort((a, b) => a - b));
  assert.deepEqual(one.errors, four.errors);
});

test('record errors carry the absolute line and byte offset', async () => {
  const { errors } = await collect([plain], 3);
  const lines = input.split('\n');
  const expected = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.includes('BAD'));
  assert.equal(errors.length, expected.length);
  for (const [k, e] of errors.entries()) {
    const want = expected[k]!;
    assert.equal(e.line, want.i + 1);
    assert.equal(e.record, want.i + 1);
    assert.equal(e.offset, lines.slice(0, want.i).reduce((n, l) => n + l.length + 1, 0));
    assert.equal(e.input, plain);
  }
});

test('gzip, BGZF and stdin give the same records and positions as the plain file', async (t) => {
  const gz = join(dir, 'in.txt.gz');
  writeFileSync(gz, gzipSync(input));
  const ref = await collect([plain], 2);
  const viaGz = await collect([gz], 2);
  assert.equal(viaGz.text, input);
  assert.deepEqual(viaGz.errors.map((e) => [e.line, e.offset]), ref.errors.map((e) => [e.line, e.offset]));
  if (spawnSync('bgzip', ['--version']).status !== 0) {
    t.diagnostic('bgzip not installed: BGZF case skipped');
  } else {
    const bgz = join(dir, 'in.txt.bgz');
    writeFileSync(bgz, execFileSync('bgzip', ['-c', plain], { maxBuffer: 1 << 28 }));
    const viaBgzf = await collect([bgz], 3, 1 << 16);
    assert.equal(viaBgzf.text, input);
    assert.deepEqual(viaBgzf.errors.map((e) => [e.line, e.offset]), ref.errors.map((e) => [e.line, e.offset]));
  }
  const script = `import { runChunks } from ${JSON.stringify(new URL('../../src/engine/run.js', import.meta.url).href)};
let n = 0, bytes = 0; const lines = [];
await runChunks({ inputs: ['-'], taskModule: new URL(${JSON.stringify(taskModule.href)}), taskOptions: {}, threads: 2, chunkSize: 65536,
  onChunk(c) { n += c.records; bytes += c.bytes; lines.push(...c.errors.map((e) => e.line)); } });
console.log(JSON.stringify({ n, bytes, lines }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: gzipSync(input), maxBuffer: 1 << 26 }).toString();
  const got = JSON.parse(out) as { n: number; bytes: number; lines: number[] };
  assert.equal(got.n, 5000);
  assert.equal(got.bytes, input.length);
  assert.deepEqual(got.lines, ref.errors.map((e) => e.line));
});

test('several inputs keep input order; empty and tiny files work', async () => {
  const empty = join(dir, 'empty.txt');
  const tiny = join(dir, 'tiny.txt');
  writeFileSync(empty, '');
  writeFileSync(tiny, 'a\nb\n');
  const r = await collect([tiny, empty, plain, tiny], 4);
  assert.equal(r.text, `a\nb\n${input}a\nb\n`);
  assert.equal(r.records, 5004);
});

test('a failing chunk fails the run (a code outside the catalogue: WORKER_FAILED, the original its cause); max-errors stops the run', async () => {
  await assert.rejects(runChunks({ inputs: [plain], taskModule, taskOptions: { failOn: '4999:' }, threads: 2, chunkSize: 1 << 16, onChunk() {} }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'WORKER_FAILED');
    assert.equal((err.cause as { code?: string }).code, 'TEST_FAIL');
    return true;
  });
  await assert.rejects(runChunks({ inputs: [plain], taskModule, taskOptions: {}, threads: 2, chunkSize: 1 << 16, errorLog: new ErrorLog({ maxErrors: 2 }), onChunk() {} }), { code: 'TOO_MANY_ERRORS' });
  await assert.rejects(runChunks({ inputs: [join(dir, 'missing')], taskModule, taskOptions: {}, onChunk() {} }), { code: 'INPUT_NOT_FOUND' });
});


test('a named pipe (plain or gzip) is streamed, not opened twice or read at a position', async () => {
  for (const compress of [false, true]) {
    const fifo = join(dir, `pipe-${compress}`);
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `${compress ? 'gzip -c' : 'cat'} ${JSON.stringify(plain)} > ${JSON.stringify(fifo)}`]);
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    const r = await collect([fifo], 2);
    assert.equal(r.text, input);
    assert.equal(await exited, 0);
  }
});

test('runChunks checks its options before starting: NaN chunk size, a window of 0 (which never settled)', async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ chunkSize: Number.NaN }, /chunkSize must be a positive integer, got NaN/],
    [{ windowPerWorker: 0 }, /windowPerWorker must be a positive integer, got 0/],
    [{ threads: -1 }, /threads must be a positive integer/],
    [{ inputs: [] }, /inputs must be a non-empty list/],
  ];
  for (const [opts, message] of bad) {
    const run = runChunks({ inputs: [plain], taskModule, taskOptions: {}, onChunk() {}, ...opts });
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('did not settle')), 10_000).unref());
    await assert.rejects(Promise.race([run, timeout]), (e: Error & { code?: string }) => e.code === 'USAGE' && message.test(e.message));
  }
});

test('zstd is read like gzip (file and stdin); bzip2, xz and lz4 are refused, naming the compression', async (t) => {
  for (const [name, magic, compression] of [['x.bz2', 'BZh91AY&SY', 'bzip2'], ['x.xz', '\xfd7zXZ\x00', 'xz'], ['x.lz4', '\x04\x22\x4d\x18', 'lz4']]) {
    const path = join(dir, name!);
    writeFileSync(path, Buffer.concat([Buffer.from(magic!, 'latin1'), Buffer.alloc(64, 3)]));
    await assert.rejects(collect([path], 2), (e: Error & { code?: string }) => e.code === 'INPUT_COMPRESSION_UNSUPPORTED' && e.message.includes(`${path}: input is ${compression}-compressed`));
  }
  if (spawnSync('zstd', ['--version']).status !== 0) {
    t.diagnostic('zstd not installed: the zstd cases are skipped');
    return;
  }
  const zst = join(dir, 'in.txt.zst');
  execFileSync('zstd', ['-q', '-f', plain, '-o', zst]);
  const ref = await collect([plain], 2);
  const viaZstd = await collect([zst], 2);
  assert.equal(viaZstd.text, input);
  assert.deepEqual(viaZstd.errors.map((e) => [e.line, e.offset]), ref.errors.map((e) => [e.line, e.offset]));
  const script = `import { runChunks } from ${JSON.stringify(new URL('../../src/engine/run.js', import.meta.url).href)};
let n = 0, bytes = 0;
await runChunks({ inputs: ['-'], taskModule: new URL(${JSON.stringify(taskModule.href)}), taskOptions: {}, threads: 2, chunkSize: 65536,
  onChunk(c) { n += c.records; bytes += c.bytes; } });
console.log(JSON.stringify({ n, bytes }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: readFileSync(zst), maxBuffer: 1 << 26 }).toString();
  assert.deepEqual(JSON.parse(out), { n: 5000, bytes: input.length });
});

test('a line longer than the chunk limit is RECORD_TOO_LARGE naming the input and where, from a file and a stream', async () => {
  // THREADMILL_MAX_CHUNK_BYTES stands in for the 1 GiB limit; a stream block may pass it by one
  // read (gunzip hands 1 MiB at a time), so the line is longer than both.
  const long = `a\nb\n${'x'.repeat(1_500_000)}\nc\n`;
  const path = join(dir, 'long.txt');
  writeFileSync(path, long);
  const gz = join(dir, 'long.txt.gz');
  writeFileSync(gz, gzipSync(long));
  process.env.THREADMILL_MAX_CHUNK_BYTES = '200000';
  try {
    for (const p of [path, gz]) {
      await assert.rejects(collect([p], 1), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'RECORD_TOO_LARGE', e.message);
        assert.ok(e.message.startsWith(`${p}: no record boundary within 200000 bytes after byte `), e.message);
        assert.ok(Number(/after byte (\d+)/.exec(e.message)?.[1]) <= 4 + 1_500_000 - 200_000, e.message);
        return true;
      });
    }
    process.env.THREADMILL_MAX_CHUNK_BYTES = '400000';
    assert.equal((await collect([plain], 2)).text, input, 'a 300,000-byte line under a 400,000 limit is read as before');
  } finally {
    delete process.env.THREADMILL_MAX_CHUNK_BYTES;
  }
});
