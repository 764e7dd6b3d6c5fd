import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { makeEvents, toJsonl } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'tm-nostr-int-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const events = makeEvents(400, 7);
const partA = toJsonl(events.slice(0, 200));
const partB = toJsonl(events.slice(200));

function snapshot(dir: string, hidden: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (hidden || !n.startsWith('.')) out[n] = createHash('sha256').update(readFileSync(join(dir, n))).digest('hex');
  return out;
}

function convertSync(dir: string, input: string): void {
  execFileSync(process.execPath, [cli, 'nostr', 'convert', '-', '-o', dir, '-q', '-j', '2'], { input, env });
}

/**
 * Starts a convert reading from a pipe we control, feeds it the first part of B, waits until the
 * run has written temporaries into DIR (so it is mid-way), then sends `signal`.
 */
async function interruptedConvert(dir: string, signal: NodeJS.Signals): Promise<number | null> {
  // A tiny data budget: the run spills while reading, so it has temporaries in DIR mid-way.
  const child = spawn(process.execPath, [cli, 'nostr', 'convert', '-', '-o', dir, '-q', '-j', '2', '--chunk-size', '65536', '--data-budget', '4096'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 + (sig === 'SIGKILL' ? 9 : 2) : null))));
  child.stdin.write(partB.slice(0, Math.floor(partB.length * 0.8)));
  const deadline = Date.now() + 20_000;
  while (!readdirSync(dir).some((n) => n.includes('.threadmill-tmp-'))) {
    if (Date.now() > deadline) throw new Error('the run never started writing');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(signal);
  return exited;
}

test('SIGINT and SIGKILL mid-run leave DIR as before; a rerun gives the bytes of an uninterrupted run', async () => {
  const reference = join(root, 'reference');
  convertSync(reference, partA);
  convertSync(reference, partB);

  const dir = join(root, 'dir');
  convertSync(dir, partA);
  const before = snapshot(dir, true);

  const intCode = await interruptedConvert(dir, 'SIGINT');
  assert.equal(intCode, 130);
  assert.deepEqual(snapshot(dir, true), before, 'SIGINT: the run removed its temporaries and changed nothing');

  const killCode = await interruptedConvert(dir, 'SIGKILL');
  assert.equal(killCode, 137);
  assert.deepEqual(snapshot(dir, false), before, 'SIGKILL: every visible file is as before');
  assert.ok(readdirSync(dir).some((n) => n.includes('.threadmill-tmp-')), 'SIGKILL leaves hidden temporaries for the next run to clean');

  convertSync(dir, partB);
  assert.deepEqual(snapshot(dir, true), snapshot(reference, true), 'the rerun cleaned up and produced the uninterrupted bytes');
  assert.ok(existsSync(join(dir, 'index.db')));
});

test('kill -9 while spilling or while writing the days leaves DIR as before; a rerun gives the uninterrupted bytes', () => {
  const reference = join(root, 'reference-faults');
  convertSync(reference, partA);
  convertSync(reference, partB);
  for (const fault of ['kill-at-spill:2', 'kill-at-day:3']) {
    const dir = join(root, `fault-${fault}`);
    convertSync(dir, partA);
    const before = snapshot(dir, false);
    const r = spawnSync(process.execPath, [cli, 'nostr', 'convert', '-', '-o', dir, '-q', '-j', '2', '--chunk-size', '65536', '--data-budget', '4096'], { input: partB, env: { ...env, THREADMILL_FAULT: fault } });
    assert.equal(r.signal, 'SIGKILL', `${fault}: the fault point was reached`);
    assert.deepEqual(snapshot(dir, false), before, `${fault}: every visible file is as before`);
    convertSync(dir, partB);
    assert.deepEqual(snapshot(dir, true), snapshot(reference, true), `${fault}: the rerun cleaned up and produced the uninterrupted bytes`);
  }
});

test('a crash between renames is rolled forward from the journal by the next run', async () => {
  const dir = join(root, 'journal');
  convertSync(dir, partA);
  // Simulate: a run that appended to an existing day file (a second gzip member, here an empty
  // one, so index.db still agrees) wrote its outputs and journal, renamed nothing, and died.
  const day = readdirSync(dir).find((n) => n.endsWith('.pb.gz'))!;
  const tmp = join(dir, `.${day}.threadmill-tmp-999999-1`);
  const appended = Buffer.concat([readFileSync(join(dir, day)), gzipSync(Buffer.alloc(0))]);
  writeFileSync(tmp, appended);
  writeFileSync(join(dir, '.threadmill-journal-999999-1.json'), JSON.stringify([{ tmp, final: join(dir, day) }]));
  execFileSync(process.execPath, [cli, 'nostr', 'stats', dir, '--json'], { env });
  assert.ok(readFileSync(join(dir, day)).equals(appended), 'the journal was rolled forward, not just its temporary removed');
  assert.ok(!readdirSync(dir).some((n) => n.startsWith('.threadmill-journal') || n.includes('.threadmill-tmp-')));
});
