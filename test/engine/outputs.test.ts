/**
 * Output paths of every pipeline (issue 8, "Outputs"): devices, FIFOs, symlinks and stdout are
 * written through or followed, never replaced; wrong paths fail before the run with a coded
 * error; closed pipes exit quietly without temporaries. Driven through `fastq convert` (no
 * external tools needed); the paths are checked by the engine, so every pipeline behaves alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { cliPath, deadPid, runCli, runWithClosedReader } from '../helpers/faults.js';

const root = mkdtempSync(join(tmpdir(), 'tm-outputs-'));
const RECORDS = 3000;
const fastq = join(root, 'reads.fq');
writeFileSync(fastq, Array.from({ length: RECORDS }, (_, i) => `@r${i}\n${'ACGT'.repeat(10 + (i % 7))}\n+\n${'I'.repeat(4 * (10 + (i % 7)))}\n`).join(''));
const inputBytes = readFileSync(fastq);
let dirs = 0;
const freshDir = (): string => mkdtempSync(join(root, `case${++dirs}-`));

/** Asserts a failed run: exit status, the coded error line naming `path`, and no stack trace. */
function assertFails(r: { status: number | null; stderr: string }, status: number, code: string, path: string): void {
  assert.equal(r.status, status, r.stderr);
  assert.match(r.stderr, new RegExp(`error \\[${code}\\]: .*${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const hiddenTemps = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('threadmill-tmp'));

test('-o - writes an Arrow IPC stream to stdout', () => {
  const r = spawnSync(process.execPath, [cliPath, 'fastq', 'convert', fastq, '-o', '-', '-q', '-j', '2'], { maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(tableFromIPC(r.stdout).numRows, RECORDS);
});

test('-o a FIFO writes through it and leaves the FIFO in place', async () => {
  const dir = freshDir();
  const fifo = join(dir, 'pipe');
  const received = join(dir, 'received.arrows');
  execFileSync('mkfifo', [fifo]);
  // The reader is its own process: if a run never opened the FIFO (it renamed a file over it),
  // the reader would block in open() for ever, so it is killed instead of hanging the test.
  const reader = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, received], { stdio: 'ignore' });
  const readerDone = new Promise<void>((resolve) => reader.on('exit', () => resolve()));
  const r = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [cliPath, 'fastq', 'convert', fastq, '-o', fifo, '-q', '-j', '2'], { stdio: 'ignore' }).on('exit', resolve);
  });
  const timer = setTimeout(() => reader.kill('SIGKILL'), 5000);
  await readerDone;
  clearTimeout(timer);
  assert.equal(r, 0);
  assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO, not replaced by a regular file');
  assert.equal(tableFromIPC(readFileSync(received)).numRows, RECORDS);
});

test('-o a symlink replaces the file it points to and keeps the link', () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'real'));
  const link = join(dir, 'out.arrow');
  symlinkSync(join(dir, 'real', 'target.arrow'), link);
  const r = runCli(['fastq', 'convert', fastq, '-o', link, '-q']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), join(dir, 'real', 'target.arrow'));
  assert.equal(tableFromIPC(readFileSync(join(dir, 'real', 'target.arrow'))).numRows, RECORDS);
  assert.deepEqual(hiddenTemps(join(dir, 'real')), []);
});

test('the input as the output (through a link, as --rejects, or as stdin) is refused before anything is written', () => {
  const dir = freshDir();
  const link = join(dir, 'same.arrow');
  symlinkSync(fastq, link);
  assertFails(runCli(['fastq', 'convert', fastq, '-o', link]), 2, 'OUTPUT_IS_INPUT', link);
  assertFails(runCli(['fastq', 'convert', fastq, '-o', join(dir, 'ok.arrow'), '--rejects', fastq]), 2, 'OUTPUT_IS_INPUT', fastq);
  const out = join(dir, 'stdin.arrow');
  writeFileSync(out, inputBytes);
  const viaStdin = spawnSync('sh', ['-c', `exec "$0" "$1" fastq convert - -o "$2" < "$2"`, process.execPath, cliPath, out], { encoding: 'utf8' });
  assertFails(viaStdin, 2, 'OUTPUT_IS_INPUT', out);
  // The case: bam convert x.bam -o x.bam (the check comes before the input is read).
  const bam = join(dir, 'x.bam');
  writeFileSync(bam, inputBytes);
  assertFails(runCli(['bam', 'convert', bam, '-o', bam, '--format', 'ipc']), 2, 'OUTPUT_IS_INPUT', bam);
  assert.deepEqual(readFileSync(fastq), inputBytes, 'the input is untouched');
  assert.deepEqual(readFileSync(out), inputBytes);
  assert.deepEqual(readFileSync(bam), inputBytes);
  assert.deepEqual(readdirSync(dir).sort(), ['same.arrow', 'stdin.arrow', 'x.bam']);
});

test('a directory as -o, a file as a parent, a file as the nostr output directory: coded usage errors before the run', () => {
  const dir = freshDir();
  assertFails(runCli(['fastq', 'convert', fastq, '-o', dir, '--progress', 'none']), 2, 'OUTPUT_IS_DIRECTORY', dir);
  mkdirSync(join(dir, 'x.arrow'));
  assertFails(runCli(['fastq', 'convert', fastq, '-o', join(dir, 'x.arrow')]), 2, 'OUTPUT_IS_DIRECTORY', join(dir, 'x.arrow'));
  assertFails(runCli(['fastq', 'convert', fastq, '-o', join(fastq, 'out.arrow')]), 2, 'OUTPUT_NOT_DIRECTORY', join(fastq, 'out.arrow'));
  assertFails(runCli(['nostr', 'convert', fastq, '-o', fastq]), 2, 'OUTPUT_NOT_DIRECTORY', fastq);
  assert.deepEqual(readFileSync(fastq), inputBytes);
});

test('a path under /proc fails at once instead of looping in mkdir', () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [cliPath, 'fastq', 'convert', fastq, '-o', '/proc/threadmill-no-such/out.arrow'], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  assertFails(r, 2, 'OUTPUT_UNSUPPORTED', '/proc/threadmill-no-such/out.arrow');
  assert.ok(Date.now() - started < 15_000);
});

/** A directory this process cannot write in: mode 555 for a normal user; as root, a read-only mount if there is one. */
function unwritableDir(): string | null {
  if (process.getuid?.() !== 0) {
    const dir = freshDir();
    execFileSync('chmod', ['555', dir]);
    return dir;
  }
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  const ro = mounts.find((m) => m[1] === '/sys' && /(^|,)ro(,|$)/.test(m[3] ?? ''));
  return ro ? '/sys' : null;
}
const unwritable = unwritableDir();

test('an unwritable output directory is OUTPUT_UNWRITABLE before the run', { skip: unwritable === null && 'running as root with no read-only mount to write into' }, () => {
  const out = join(unwritable!, 'threadmill-out.arrow');
  assertFails(runCli(['fastq', 'convert', fastq, '-o', out]), 1, 'OUTPUT_UNWRITABLE', out);
  assert.equal(existsSync(out), false);
});

test('a failed run leaves no output directory it created (file and directory outputs)', () => {
  const dir = freshDir();
  const missing = join(dir, 'no-such-input.fq');
  const r1 = runCli(['fastq', 'convert', missing, '-o', join(dir, 'new', 'deeper', 'out.arrow'), '-q']);
  assert.equal(r1.status, 1, r1.stderr);
  const r2 = runCli(['nostr', 'convert', join(dir, 'no-such.jsonl'), '-o', join(dir, 'pb', 'data'), '-q']);
  assert.equal(r2.status, 1, r2.stderr);
  assert.deepEqual(readdirSync(dir), [], 'neither new/ nor pb/ is left behind');
});

test('stale temporaries of dead runs beside a file output are removed by the next run', () => {
  const dir = freshDir();
  const stale = join(dir, `.out.arrow.threadmill-tmp-${deadPid()}-1`);
  const unrelated = join(dir, `.other.parquet.threadmill-tmp-${deadPid()}-7`);
  writeFileSync(stale, 'half a file');
  writeFileSync(unrelated, 'half another');
  const r = runCli(['fastq', 'convert', fastq, '-o', join(dir, 'out.arrow'), '-q']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir), ['out.arrow']);
});

test('stdout closed early (| head -c 1): quiet exit 141, no stack trace, no temporary', () => {
  const dir = freshDir();
  const bad = join(dir, 'bad.fq');
  // Many rejected records written to --rejects - (stdout) while out.arrow is being written.
  writeFileSync(bad, `${inputBytes.toString()}${'@x\nACGT\n+\nII\u0001I\n'.repeat(20_000)}`);
  const r = runWithClosedReader(['fastq', 'convert', bad, '-o', join(dir, 'out.arrow'), '--rejects', '-', '-q', '-j', '2']);
  assert.equal(r.status, 141, r.otherStream);
  assert.equal(r.otherStream, '', 'nothing on stderr');
  assert.deepEqual(readdirSync(dir), ['bad.fq'], 'no temporary and no half output');
});

test('stderr closed early (2>&1 | head -c 1): the run still finishes its output, leaves no temporary', () => {
  const dir = freshDir();
  const r = runWithClosedReader(['fastq', 'convert', fastq, '-o', join(dir, 'out.arrow'), '--progress', 'json', '-j', '2'], 'stderr');
  assert.equal(r.status, 0, r.otherStream);
  assert.deepEqual(readdirSync(dir), ['out.arrow']);
  assert.equal(tableFromIPC(readFileSync(join(dir, 'out.arrow'))).numRows, RECORDS);
});
