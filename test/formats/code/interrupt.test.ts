/**
 * `code index` interrupted by SIGINT at several moments (walking, as the first facts are written,
 * and while the workers parse): every time exit 130 with INTERRUPTED and no database or temporary
 * left. A worker used to be terminated inside tree-sitter, which aborted the process (SIGABRT,
 * `Napi::Error`) in about 5 of 14 SIGINTs (issue 16). Resolution looks at the signal between pages:
 * a SIGINT 14 s into a 50 MB file's resolution took 8 s to stop it, now 0.25 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { resolveGraph } from '../../../src/formats/code/resolve.js';
import { openStore } from '../../../src/sinks/code-store.js';

const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tm-code-int-'));
const root = join(dir, 'tree');

/** ~1.4 MB of JavaScript in 100 files: over a second of parsing at -j 2, so there is a middle to interrupt. */
function writeTree(): void {
  for (let f = 0; f < 100; f++) {
    const sub = join(root, `m${f % 8}`);
    mkdirSync(sub, { recursive: true });
    const body: string[] = [];
    for (let i = 0; i < 100; i++) body.push(`export class C${f}_${i} extends Base {\n  m(x) { return helper${i}(x, this.y) + new D${i}().run([1, 2, 3].map((v) => v * ${i})); }\n}\n`);
    writeFileSync(join(sub, `f${f}.js`), body.join(''));
  }
}

interface Outcome { code: number | null; signal: NodeJS.Signals | null; stderr: string[] }

/** A stderr line as JSON; a line that is not (a native crash's `terminate called …`) as an empty object. */
function parsed(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Runs `code index --progress json` and sends SIGINT `delayMs` after the first stderr line that
 * `when` accepts (lines are JSON: progress objects with their phase). Never sent at all is a failure.
 */
async function interruptedIndex(db: string, when: (line: Record<string, unknown>) => boolean, delayMs: number): Promise<Outcome> {
  const child = spawn(process.execPath, [cli, 'code', 'index', root, '--db', db, '-j', '2', '--progress', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return outcome(child, when, delayMs);
}

/** No stderr line triggers the signal (the fault point's stop does). */
const never = (): boolean => false;

/**
 * The same, deterministic on any machine: the run stops itself (SIGSTOP) as it takes the k-th
 * batch of files (THREADMILL_FAULT=stop-at-chunk:k, src/engine/fault-points.ts), then gets SIGINT
 * and SIGCONT, so the signal meets it in the middle of parsing however fast the machine is.
 */
async function stoppedIndex(db: string, k: number): Promise<Outcome> {
  const child = spawn(process.execPath, [cli, 'code', 'index', root, '--db', db, '-j', '2', '--progress', 'json'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, THREADMILL_FAULT: `stop-at-chunk:${k}` } });
  const stopped = async (): Promise<void> => {
    for (let i = 0; i < 600 && !/\) T /.test(statOf(child.pid!)); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    child.kill('SIGCONT');
  };
  void stopped();
  return outcome(child, never, 0);
}

function statOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

async function outcome(child: ChildProcessByStdio<null, null, Readable>, when: (line: Record<string, unknown>) => boolean, delayMs: number): Promise<Outcome> {
  const stderr: string[] = [];
  let sent = false;
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (sent || !when(parsed(line))) return;
    sent = true;
    setTimeout(() => child.kill('SIGINT'), delayMs);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  if (when !== never) assert.ok(sent, `the moment never came: ${stderr.join('\n')}`);
  return { code, signal, stderr };
}

const walking = (l: Record<string, unknown>): boolean => l.phase === 'walking the folder';
const parsing = (l: Record<string, unknown>): boolean => l.type === 'progress' && Number(l.records) > 0;

test('SIGINT while walking and at moments of parsing: exit 130, INTERRUPTED, no database, no temporaries', async () => {
  writeTree();
  // The third and seventh batches of the ~10 are taken while the workers parse the others.
  const moments: [string, (db: string) => Promise<Outcome>][] = [
    ['walking', (db) => interruptedIndex(db, walking, 0)], ['first facts', (db) => interruptedIndex(db, parsing, 0)],
    ['batch 3', (db) => stoppedIndex(db, 3)], ['batch 7', (db) => stoppedIndex(db, 7)],
  ];
  for (const [name, run] of moments) {
    const db = join(dir, `${name.replace(/\W+/g, '-')}.db`);
    const r = await run(db);
    const error = r.stderr.map(parsed).find((l) => l.type === 'error');
    assert.deepEqual([r.code, r.signal, error?.code], [130, null, 'INTERRUPTED'], `${name}: ${r.stderr.slice(-3).join('\n')}`);
    assert.ok(!r.stderr.some((l) => /"type":"summary"/.test(l)), `${name}: no summary of a finished run`);
  }
  assert.deepEqual(readdirSync(dir), ['tree'], 'no database and no temporaries beside them');
});

test('an interrupt during resolution is seen between pages, not after the whole resolution', async () => {
  const tree = join(dir, 'small');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'a.js'), 'export function f() { return g(); }\nfunction g() { return f(); }\n');
  const db = join(dir, 'resolve.db');
  await indexCode({ root: tree, db, threads: 1 });
  const store = await openStore(db, 'write');
  await store.begin();
  const interrupted = new AbortController();
  interrupted.abort('SIGINT');
  await assert.rejects(resolveGraph(store, tree, interrupted.signal), (err: Error & { code?: string }) => err.code === 'INTERRUPTED');
  await store.rollback();
  await store.close();
});
