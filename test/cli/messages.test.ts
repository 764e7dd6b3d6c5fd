/**
 * Messages a program can read (issue 19): usage errors are coded like every other error and exit 2;
 * with --progress json, stderr is JSON lines only and the summary is the last one; the status line
 * never writes a terminal mode and is erased before any other message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { WriteStream } from 'node:tty';
import { runCli } from '../helpers/faults.js';
import { StatusLine } from '../../src/engine/status-line.js';
import { barText } from '../../src/engine/progress.js';

const root = mkdtempSync(join(tmpdir(), 'tm-messages-'));

test('usage errors: `threadmill: error [USAGE]: …` and exit 2, from commander and from a command', () => {
  for (const args of [['nostr', 'convert', '--bogus'], ['nostr', 'no-such-command'], ['fastq', 'stats', 'x.fq', '-j', '0']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^threadmill: error \[USAGE\]: \S/, args.join(' '));
  }
});

test('--progress json: every stderr line is JSON, rejections and errors included, the summary last', () => {
  const r = runCli(['nostr', 'convert', 'examples/events.jsonl', '-o', join(root, 'pb'), '--progress', 'json', '-j', '2']);
  assert.equal(r.status, 0, r.stderr);
  const objects = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; written?: number });
  assert.deepEqual([...new Set(objects.map((o) => o.type))].sort(), ['progress', 'rejected', 'summary']);
  assert.equal(objects.at(-1)!.type, 'summary');
  assert.equal(objects.at(-1)!.written, 200);
  const failed = runCli(['nostr', 'convert', join(root, 'absent.jsonl'), '-o', join(root, 'pb2'), '--progress', 'json']);
  assert.equal(failed.status, 1);
  const last = JSON.parse(failed.stderr.trimEnd().split('\n').at(-1)!) as { type: string; code: string };
  assert.equal(last.type, 'error');
  assert.equal(last.code, 'INPUT_NOT_FOUND');
});

/** A stand-in terminal that records what is written to it. */
function fakeTerminal(columns: number): WriteStream & { out: string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk.toString()); cb(); } }) as unknown as WriteStream & { out: string };
  Object.assign(stream, { columns, isTTY: true });
  Object.defineProperty(stream, 'out', { get: () => chunks.join('') });
  return stream;
}

test('the status line: cut to the width, erased before a message, no terminal mode written', () => {
  const term = fakeTerminal(30);
  const line = new StatusLine(term);
  line.update('x'.repeat(100));
  assert.equal(term.out, `\r${'x'.repeat(29)}\x1b[K`);
  term.write('threadmill: warning: w\n');
  assert.ok(term.out.endsWith(`\x1b[K\r\x1b[Kthreadmill: warning: w\n`), JSON.stringify(term.out));
  line.update('y');
  line.finish();
  term.write('after\n');
  assert.ok(term.out.endsWith('\ry\x1b[K\nafter\n'), JSON.stringify(term.out));
  assert.doesNotMatch(term.out, /\x1b\[\?/, 'no private mode (wrapping, cursor) is ever set');
});

test('the bar text fits every width and keeps its figures first', () => {
  const s = { bytesDone: 5e6, bytesTotal: 1e7, records: 12345, seconds: 2, bytesPerSecond: 2.5e6, recordsPerSecond: 6000, etaSeconds: 2, phase: '' };
  for (const width of [40, 60, 79, 119, 200]) {
    const text = barText('nostr convert', s, false, width);
    assert.match(text, /50% \| 5\.0 MB \| 12,345 records \| 2\.5 MB\/s \| ETA 2s$/);
    if (text.length > width) assert.ok(!text.includes('['), `no bar when it does not fit ${width}: ${text}`);
  }
  assert.match(barText('x', s, false, 120), /\[#{20}-{20}\]/);
  assert.match(barText('x', { ...s, bytesTotal: null, etaSeconds: null }, false, 120), /^x 5\.0 MB \| 12,345 records/);
});
