/** Issue 8, FASTQ: inputs that are not FASTQ, compressed and non-seekable inputs, huge records, odd titles, library options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { ParallelParser, type FastqRecord } from '../../../src/formats/fastq/index.js';
import { convertFastq } from '../../../src/formats/fastq/convert.js';
import { ErrorLog } from '../../../src/engine/error-log.js';
import { haveTool, syntheticFastq } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fastq-hard-'));
const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const text = syntheticFastq(3000, 8);
const plain = join(dir, 'reads.fq');
writeFileSync(plain, text);

function file(name: string, bytes: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function cliRun(args: string[], input?: Uint8Array | string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The stats row of the plain file, the reference for every other way of reading the same reads. */
const reference = cliRun(['fastq', 'stats', '--tsv', '-j', '2', plain]).stdout.split('\n')[1]!.split('\t').slice(1).join('\t');

function rowOf(stdout: string): string {
  return stdout.split('\n')[1]!.split('\t').slice(1).join('\t');
}

test('inputs that are not FASTQ exit 1 naming what they are, from a file and from stdin', () => {
  const bam = gzipSync(Buffer.concat([Buffer.from('BAM\x01', 'latin1'), Buffer.alloc(200, 7)]));
  let x = 12345;
  const random = Uint8Array.from({ length: 5000 }, () => (x = (x * 1103515245 + 12345) % 2147483648) >>> 16 & 0xff);
  random[0] = 0x9c;
  const cases: [string, Uint8Array | string, RegExp][] = [
    ['reads.fa', '>r1 desc\nACGT\nACGT\n>r2\nGGCC\n', /looks like FASTA \(line 1 starts with '>'\)/],
    ['blank-then.fa', '\n\n>r1\nACGT\n', /looks like FASTA \(line 3/],
    ['aln.bam', bam, /looks like BAM/],
    ['aln.sam', '@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:100\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n', /looks like SAM/],
    ['random.bin', random, /looks like binary data \(first bytes 9c /],
    ['notes.txt', 'hello\nworld\n', /line 1 should start a record with '@' but is "hello"/],
    ['double.fq.gz.gz', gzipSync(gzipSync(text)), /gzip-compressed inside its compression/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = file(name, bytes);
    const r = cliRun(['fastq', 'stats', path]);
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, '', name);
    assert.match(r.stderr, /error \[INPUT_NOT_FASTQ\]/, name);
    assert.match(r.stderr, message, name);
    assert.ok(r.stderr.includes(path), name);
    if (!/\.(fa|bam|bin)$/.test(name)) continue; // stdin for a few: each CLI start costs ~0.5 s here
    const viaStdin = cliRun(['fastq', 'stats', '-'], typeof bytes === 'string' ? bytes : Buffer.from(bytes));
    assert.equal(viaStdin.status, 1, name);
    assert.match(viaStdin.stderr, /INPUT_NOT_FASTQ\]: stdin: /, name);
    assert.match(viaStdin.stderr, message, name);
  }
  // A first record that is merely damaged stays a record error; an empty input is zero reads, not an error.
  assert.equal(cliRun(['fastq', 'stats', file('damaged.fq', `@r0\nACGT\n+\nII\n${text}`)]).status, 0);
  assert.equal(cliRun(['fastq', 'stats', file('empty.fq', '')]).status, 0);
});

test('bzip2, xz and lz4 inputs are refused by name; zstd is read like gzip', (t) => {
  for (const [name, magic, tool] of [['r.fq.bz2', 'BZh91AY&SY', 'bzip2 -dc'], ['r.fq.xz', '\xfd7zXZ\x00\x00\x04', 'xz -dc'], ['r.fq.lz4', '\x04\x22\x4d\x18\x64\x40', 'lz4 -dc']] as const) {
    const path = file(name, Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.alloc(100, 1)]));
    const r = cliRun(['fastq', 'stats', path]);
    assert.equal(r.status, 1, name);
    assert.match(r.stderr, /INPUT_COMPRESSION_UNSUPPORTED/, name);
    assert.ok(r.stderr.includes(`${tool} ${path} | threadmill`), r.stderr);
  }
  if (!haveTool('zstd')) {
    t.diagnostic('zstd is not installed: the zstd input case is skipped');
    return;
  }
  const zst = join(dir, 'reads.fq.zst');
  execFileSync('zstd', ['-q', '-f', plain, '-o', zst]);
  assert.equal(rowOf(cliRun(['fastq', 'stats', '--tsv', '-j', '2', '--chunk-size', '65536', zst]).stdout), reference);
  assert.equal(rowOf(cliRun(['fastq', 'stats', '--tsv', '-'], readFileSync(zst)).stdout), reference);
  const cut = file('cut.fq.zst', readFileSync(zst).subarray(0, 20_000));
  const r = cliRun(['fastq', 'stats', cut]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ZSTD_CORRUPT\]: .*cut\.fq\.zst: bad zstd data near compressed byte \d+/);
});

test('pipes, FIFOs and /dev/stdin are read as streams (no ESPIPE), by the CLI and the library', async () => {
  // A shell pipe, and Node's spawn (whose stdin is a socket, which cannot be opened by name).
  const viaPipe = spawnSync('sh', ['-c', `cat ${JSON.stringify(plain)} | ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} fastq stats --tsv /dev/stdin`], { encoding: 'utf8' });
  assert.equal(viaPipe.status, 0, viaPipe.stderr);
  assert.equal(rowOf(viaPipe.stdout), reference);
  const viaProcessSubstitution = spawnSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} fastq stats --tsv <(cat ${JSON.stringify(plain)})`], { encoding: 'utf8' });
  assert.equal(viaProcessSubstitution.status, 0, viaProcessSubstitution.stderr);
  assert.equal(rowOf(viaProcessSubstitution.stdout), reference);
  const viaSocket = spawnSync(process.execPath, [cli, 'fastq', 'stats', '--tsv', '/dev/stdin'], { input: text, encoding: 'utf8' });
  assert.equal(viaSocket.status, 0, viaSocket.stderr);
  assert.equal(rowOf(viaSocket.stdout), reference);
  const fifo = join(dir, 'reads.pipe');
  execFileSync('mkfifo', [fifo]);
  const feed = (): Promise<unknown> => {
    const w = spawn('sh', ['-c', `cat ${JSON.stringify(plain)} > ${JSON.stringify(fifo)}`]);
    return new Promise((resolve) => w.on('exit', resolve));
  };
  let fed = feed();
  const out = await new Promise<string>((resolve) => {
    const p = spawn(process.execPath, [cli, 'fastq', 'stats', '--tsv', '-j', '2', fifo]);
    let s = '';
    p.stdout.on('data', (d: Buffer) => (s += d.toString()));
    p.on('exit', () => resolve(s));
  });
  assert.equal(await fed, 0);
  assert.equal(rowOf(out), reference);
  fed = feed();
  const recs = await ParallelParser.fromFile(fifo).withConfig({ threads: 2, chunkSize: 65_536 }).parseParallel();
  assert.equal(await fed, 0);
  assert.equal(recs.length, 3000);
});

/** One read of `len` bases between short ones; its quality starts with '@' (a candidate record start). */
function hugeReadFile(name: string, len: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const short = syntheticFastq(200, 3);
  writeSync(fd, short);
  writeSync(fd, '@huge read\n');
  const block = 1 << 20;
  const seq = Buffer.from('ACGT'.repeat(block / 4));
  const qual = Buffer.from('@II5'.repeat(block / 4));
  for (let o = 0; o < len; o += block) writeSync(fd, seq, 0, Math.min(block, len - o));
  writeSync(fd, '\n+\n');
  for (let o = 0; o < len; o += block) writeSync(fd, qual, 0, Math.min(block, len - o));
  writeSync(fd, `\n${short}`);
  closeSync(fd);
  return path;
}

test('a read far longer than a chunk costs linear time: 16 Mbp at 64 KiB chunks', async () => {
  // Before, each of the ~500 workers inside the read read on to its end: ~8 GB of reads for a
  // 32 MB file (minutes); now those workers stop at the end of their own range.
  const path = hugeReadFile('huge.fq', 16 << 20);
  const started = performance.now();
  const s2 = await ParallelParser.fromFile(path).withConfig({ threads: 2, chunkSize: 65_536 }).stats();
  const seconds = (performance.now() - started) / 1000;
  assert.equal(s2.num_seqs, 401);
  assert.equal(s2.max_len, 16 << 20);
  assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);
  const s1 = await ParallelParser.fromFile(path).withConfig({ threads: 1, chunkSize: 1 << 20 }).stats();
  assert.deepEqual(s1, s2);
});

test('a line past the chunk limit is a located RECORD_TOO_LARGE, from a file and a stream', async () => {
  // THREADMILL_MAX_CHUNK_BYTES stands in for the 1 GiB limit (a 2 GiB line died with
  // `Invalid typed array length`); workers inherit the variable.
  const path = hugeReadFile('long.fq', 3 << 20);
  process.env.THREADMILL_MAX_CHUNK_BYTES = String(1 << 20);
  try {
    const offset = Buffer.byteLength(syntheticFastq(200, 3));
    for (const input of [path, file('long.fq.gz', gzipSync(readFileSync(path)))]) {
      // One thread, so the first chunk in file order is the one that fails (any worker may fail first with more).
      await assert.rejects(ParallelParser.fromFile(input).withConfig({ threads: 1, chunkSize: 65_536 }).stats(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'RECORD_TOO_LARGE', e.message);
        assert.ok(e.message.includes(input), e.message);
        assert.equal(e.message.split(input).length, 2, `names the input once: ${e.message}`);
        // The boundary search that gave up started in the chunk before the read or the read's own.
        const at = Number(/after byte (\d+)/.exec(e.message)?.[1]);
        assert.ok(at >= offset - 65_536 && at <= offset + 65_536, e.message);
        return true;
      });
    }
    const wrapped = file('wrapped-big.fq', `@w\nAC\nGT\n+\nII\nII\n${syntheticFastq(30_000, 4)}`);
    await assert.rejects(ParallelParser.fromFile(wrapped).stats(), { code: 'INPUT_TOO_LARGE' });
  } finally {
    delete process.env.THREADMILL_MAX_CHUNK_BYTES;
  }
});

test('Parquet convert of an empty or all-rejected input writes a valid zero-row file, like Arrow', async () => {
  for (const [name, content] of [['empty.fq', ''], ['all-bad.fq', '@r1\nAC GT\n+\nIIII\n@r2\nACGT\n+\nII\n']] as const) {
    const input = file(`pq-${name}`, content);
    for (const ext of ['parquet', 'arrow']) {
      const output = join(dir, `${name}.${ext}`);
      const s = await convertFastq({ input, output, threads: 2, errorLog: new ErrorLog() });
      assert.equal(s.written, 0);
      const bytes = readFileSync(output);
      const table = ext === 'parquet' ? tableFromIPC(pw.readParquet(bytes).intoIPCStream()) : tableFromIPC(bytes);
      assert.equal(table.numRows, 0, output);
      assert.deepEqual(table.schema.fields.map((f) => f.name), ['id', 'description', 'sequence', 'quality']);
    }
  }
});

test('titles are UTF-8 everywhere: the library and convert agree, non-UTF-8 is a record error in every mode', async () => {
  const input = file('titles.fq', Buffer.concat([
    Buffer.from('@read_\u00e9 caf\u00e9 \u2603\nACGT\n+\nIIII\n'),
    Buffer.from('@latin1_\xe9 x\nACGT\n+\nIIII\n', 'latin1'),
    Buffer.from('@plain\nAC\n+\nII\n'),
  ]));
  const p = ParallelParser.fromFile(input).withConfig({ skipInvalid: true });
  const recs = await p.parseParallel();
  assert.deepEqual(recs.map((r) => [r.id, r.description]), [['read_\u00e9', 'caf\u00e9 \u2603'], ['plain', '']]);
  assert.deepEqual(p.errors.map((e) => [e.category, e.record, e.line, e.offset]), [['invalid_title', 2, 5, 31]]);
  assert.match(p.errors[0]!.reason, /not valid UTF-8 \(byte 0xe9 at column 9/);
  assert.equal((await ParallelParser.fromFile(input).withConfig({ skipInvalid: true }).stats()).num_seqs, 2);
  const outputs: Buffer[] = [];
  for (const [threads, ext] of [[1, 'arrow'], [3, 'arrow'], [2, 'parquet']] as const) {
    const output = join(dir, `titles-${threads}.${ext}`);
    const s = await convertFastq({ input, output, threads, chunkSize: 65_536, errorLog: new ErrorLog() });
    assert.equal(s.rejected, 1);
    const bytes = readFileSync(output);
    if (ext === 'arrow') outputs.push(bytes);
    const t = ext === 'parquet' ? tableFromIPC(pw.readParquet(bytes).intoIPCStream()) : tableFromIPC(bytes);
    assert.deepEqual(t.toArray().map((r: { id: string; description: string }) => [r.id, r.description]), recs.map((r) => [r.id, r.description]));
  }
  assert.ok(outputs[0]!.equals(outputs[1]!), '-j 1 and -j 3 write the same bytes');
});

test('library options are checked like the CLI\'s', async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ chunkSize: Number.NaN }, /chunkSize must be a positive integer, got NaN/],
    [{ windowPerWorker: 0 }, /windowPerWorker must be a positive integer/],
    [{ threads: 0 }, /threads must be a positive integer/],
    [{ threads: 1.5 }, /threads must be a positive integer/],
    [{ phred: 50 }, /phred must be 33 or 64, got 50/],
  ];
  for (const [config, message] of bad) {
    // Each must fail at once: windowPerWorker 0 used to never settle.
    const parse = ParallelParser.fromFile(plain).withConfig(config).parseParallel();
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('did not settle')), 10_000).unref());
    await assert.rejects(Promise.race([parse, timeout]), (e: Error & { code?: string }) => e.code === 'USAGE' && message.test(e.message));
  }
  await assert.rejects(convertFastq({ input: plain, output: join(dir, 'b.arrow'), batchSize: 0 }), { code: 'USAGE' });
});

test('fastq stats and convert take --allow-truncated, which the BGZF truncation message offers', (t) => {
  if (!haveTool('bgzip')) {
    t.diagnostic('bgzip is not installed: skipped');
    return;
  }
  const bgz = join(dir, 'reads.fq.bgz');
  writeFileSync(bgz, execFileSync('bgzip', ['-c', plain], { maxBuffer: 1 << 26 }));
  const cut = file('cut.fq.bgz', readFileSync(bgz).subarray(0, 40_000));
  const refused = cliRun(['fastq', 'stats', cut]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /BGZF_TRUNCATED.*--allow-truncated/);
  const kept = cliRun(['fastq', 'stats', '--tsv', '--allow-truncated', cut]);
  assert.equal(kept.status, 0, kept.stderr);
  const n = Number(kept.stdout.split('\n')[1]!.split('\t')[3]);
  assert.ok(n > 100 && n < 3000, kept.stdout);
  assert.match(kept.stderr, /ends inside the BGZF block at compressed offset \d+; kept the data before it/);
  const converted = cliRun(['fastq', 'convert', '--allow-truncated', '-q', cut, '-o', join(dir, 'cut.arrow')]);
  assert.equal(converted.status, 0, converted.stderr);
  assert.equal(tableFromIPC(readFileSync(join(dir, 'cut.arrow'))).numRows, n);
});

test('quality-length messages count the quality line the report quotes', async () => {
  const cases: [string, string, string[]][] = [
    // The short quality line is followed by the next title, which the old count added in.
    ['@r1\nACGT\n+\nII\n@r2\nACGT\n+\nIIII\n', 'quality length 2 differs from sequence length 4', ['r2']],
    ['@r3\nACGTACGTAC\n+\n\n@r4\nACGT\n+\nIIII\n', 'quality length 0 differs from sequence length 10', ['r4']],
    ['@r5\nACGT\n+\nIIIII\n', 'quality length 5 differs from sequence length 4', []],
    ['@w\nAC\nGT\n+\nII\nIIII\n', 'quality length 6 (2 lines) differs from sequence length 4', []],
  ];
  for (const [i, [content, reason, ids]] of cases.entries()) {
    const p = ParallelParser.fromFile(file(`qlen${i}.fq`, content)).withConfig({ skipInvalid: true });
    assert.deepEqual((await p.parseParallel()).map((r) => r.id), ids);
    assert.deepEqual(p.errors.map((e) => [e.record, e.line, e.category, e.reason]), [[1, 1, 'length_mismatch', reason]]);
  }
});

test('async parseWithCallback callbacks are awaited in order, and a rejection fails the parse', async () => {
  const p = ParallelParser.fromFile(plain).withConfig({ threads: 2, chunkSize: 65_536 });
  const seen: string[] = [];
  let running = 0;
  const n = await p.parseWithCallback(async (r: FastqRecord) => {
    running++;
    assert.equal(running, 1, 'one callback at a time');
    if (seen.length % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(r.id);
    running--;
  });
  assert.equal(n, 3000);
  assert.equal(seen.length, 3000, 'every callback finished before the parse resolved');
  assert.deepEqual(seen.slice(0, 3), ['r0', 'r1', 'r2']);
  await assert.rejects(p.parseWithCallback(async (r) => {
    if (r.id === 'r1500') throw new Error('callback failed');
  }), /callback failed/);
});
