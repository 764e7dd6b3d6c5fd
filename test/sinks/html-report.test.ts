/**
 * The HTML pages (issue 19) in a real headless browser: `fsscan report`, `nostr report` and `code
 * serve`'s neighbourhood page load with no console error and no request beyond the page itself,
 * and their charts hold the numbers of the data (read back from each mark's data-value). Skips with
 * a message where chromium is absent. THREADMILL_SCREENSHOTS=DIR also saves a PNG of each page.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'puppeteer-core';
import { browserSkip, chartValues, launchBrowser, openPage } from '../helpers/browser.js';
import { runCli } from '../helpers/faults.js';
import { rng } from '../helpers/random.js';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { openStore } from '../../src/sinks/code-store.js';
import { serveGraph } from '../../src/formats/code/serve.js';
import { ScanDb } from '../../src/formats/fsscan/query.js';

const root = mkdtempSync(join(tmpdir(), 'tm-html-'));
const shots = process.env.THREADMILL_SCREENSHOTS;
let browser: Browser | undefined;
const getBrowser = async (): Promise<Browser> => (browser ??= await launchBrowser());
after(async () => browser?.close());

async function load(url: string, name: string): Promise<Page> {
  const { page, problems, requests } = await openPage(await getBrowser(), url);
  assert.deepEqual(problems, [], `${name}: no console errors`);
  assert.deepEqual(requests, [url], `${name}: no request but the page itself`);
  if (shots) {
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }
  return page;
}

/** A GPFS LIST of a project space: one directory per user (single owner each), files of every size and age. */
function projectScan(): string {
  const r = rng(19);
  const users = [['alice', 4001, 5001], ['bob', 4002, 5001], ['carol', 4003, 5002], ['dave', 4004, 5002], ['erin', 4005, 5003]] as const;
  const lines: string[] = [];
  let inode = 1;
  const line = (path: string, size: number, uid: number, gid: number, dir: boolean, atime: string): void => {
    lines.push(`<0> ${inode++} 1 0 s=${size} a=${Math.ceil(size / 1024)} u=${uid} g=${gid} m=FAu p=${dir ? 'drwxr-xr-x' : '-rw-r--r--'} ac=${atime} -- ${path}`);
  };
  line('/gpfs/proj', 4096, 0, 0, true, '2025-02-01 00:00:00');
  for (const [name, uid, gid] of users) {
    line(`/gpfs/proj/${name}`, 4096, uid, gid, true, '2025-02-01 00:00:00');
    for (const sub of ['raw', 'results', 'scratch'].slice(0, 1 + Math.floor(r() * 3))) {
      const dir = `/gpfs/proj/${name}/${sub}`;
      line(dir, 4096, uid, gid, true, '2025-02-01 00:00:00');
      for (let f = 0; f < 5 + Math.floor(r() * 30); f++) {
        const size = Math.floor(2 ** (8 + r() * 28));
        const year = 2018 + Math.floor(r() * 7);
        line(`${dir}/file${f}.dat`, size, uid, gid, false, `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-15 12:00:00`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const sorted = (m: Map<string, number>): number[] => [...m.values()].sort((a, b) => b - a);

test('fsscan report: treemap (with drill-down), owners, groups and histograms hold the database\'s numbers', { skip: browserSkip, timeout: 120_000 }, async () => {
  const scan = join(root, '20250301_host_proj.list.log');
  writeFileSync(scan, projectScan());
  const db = join(root, 'scan.db');
  const passwd = join(root, 'passwd');
  writeFileSync(passwd, ['alice', 'bob', 'carol', 'dave', 'erin'].map((n, i) => `${n}:x:${4001 + i}:5001::/home/${n}:/bin/sh\n`).join(''));
  const group = join(root, 'group');
  writeFileSync(group, 'genomics:x:5001:\nclimate:x:5002:\nphysics:x:5003:\n');
  assert.equal(runCli(['fsscan', 'import', scan, '--db', db, '--passwd', passwd, '--group', group, '-q']).status, 0);
  const html = join(root, 'scan.html');
  const r = runCli(['fsscan', 'report', '--db', db, '-o', html]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(readFileSync(html, 'utf8'), /\b(src|href)=["']?(https?:)?\/\//, 'nothing to fetch');
  const page = await load(pathToFileURL(html).href, 'fsscan-report');
  const sql = new Database(db, { readonly: true });
  try {
    const children = sql.prepare('SELECT s.total_size_r AS size FROM directories d JOIN directory_stats s USING (dir_id) WHERE d.parent_id = ? ORDER BY s.total_size_r DESC LIMIT 10');
    const rootId = (sql.prepare('SELECT dir_id FROM directories WHERE parent_id IS NULL').get() as { dir_id: number }).dir_id;
    const cells = await chartValues(page, 'treemap');
    assert.deepEqual(sorted(cells), (children.all(rootId) as { size: number }[]).map((c) => c.size).filter((v) => v > 0));
    // Drill down into the largest directory that has subdirectories of its own.
    const target = await page.$eval('[data-chart="treemap"] g.drill rect', (e) => e.getAttribute('data-label')!);
    await page.click('[data-chart="treemap"] g.drill rect');
    assert.equal(await page.$eval('[data-chart="treemap"] svg', (e) => e.getAttribute('data-root')), target);
    const scanDb = new ScanDb(db);
    const targetId = scanDb.resolve(target);
    scanDb.close();
    assert.ok(targetId !== null, target);
    const inside = await chartValues(page, 'treemap');
    assert.ok([...inside.keys()].every((k) => k.startsWith(`${target}/`)), 'the cells are the chosen directory\'s children');
    assert.deepEqual(sorted(inside), (children.all(targetId) as { size: number }[]).map((c) => c.size).filter((v) => v > 0));
    const owners = sql.prepare('SELECT total_size AS v FROM owner_summary ORDER BY total_size DESC LIMIT 25').all() as { v: number }[];
    assert.equal(owners.length, 5);
    const ownerBars = await chartValues(page, 'owners-size');
    assert.deepEqual(sorted(ownerBars), owners.map((o) => o.v));
    assert.deepEqual([...ownerBars.keys()].sort(), ['alice', 'bob', 'carol', 'dave', 'erin'], 'owners named from --passwd');
    const groups = sql.prepare('SELECT total_size AS v FROM group_summary ORDER BY total_size DESC LIMIT 25').all() as { v: number }[];
    assert.equal(groups.length, 3);
    assert.deepEqual(sorted(await chartValues(page, 'groups-size')), groups.map((o) => o.v));
    const hist = (table: string, col: string, buckets: number): number[] => {
      const rows = new Map((sql.prepare(`SELECT bucket_index AS b, SUM(${col}) AS v FROM ${table} GROUP BY b`).all() as { b: number; v: number }[]).map((x) => [x.b, x.v]));
      return Array.from({ length: buckets }, (_, b) => rows.get(b) ?? 0);
    };
    const files = await chartValues(page, 'access-files');
    assert.equal([...files.values()].reduce((a, b) => a + b, 0), (sql.prepare('SELECT SUM(file_count) AS n FROM access_histogram').get() as { n: number }).n);
    assert.deepEqual([...files.values()], hist('access_histogram', 'file_count', files.size));
    assert.ok(files.size >= 10);
    const bySize = await chartValues(page, 'size-bytes');
    assert.deepEqual([...bySize.values()], hist('size_histogram', 'total_size', bySize.size));
  } finally {
    sql.close();
  }
});

test('nostr report: events per day, per kind and top authors equal counts over the events themselves', { skip: browserSkip, timeout: 120_000 }, async () => {
  const events = makeEvents(300, 3);
  const input = join(root, 'events.jsonl');
  writeFileSync(input, toJsonl(events));
  const dir = join(root, 'pb');
  assert.equal(runCli(['nostr', 'convert', input, '-o', dir, '-q', '--no-validate-signatures']).status, 0);
  const html = join(root, 'nostr.html');
  assert.equal(runCli(['nostr', 'report', dir, '-o', html]).status, 0);
  const page = await load(pathToFileURL(html).href, 'nostr-report');
  const count = (key: (e: (typeof events)[number]) => string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const e of events) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
    return m;
  };
  const perDay = count((e) => new Date(e.created_at * 1000).toISOString().slice(0, 10));
  assert.deepEqual(await chartValues(page, 'events-per-day'), new Map([...perDay].sort(([a], [b]) => a.localeCompare(b))));
  const perKind = count((e) => String(e.kind));
  const shown = await chartValues(page, 'events-per-kind');
  assert.deepEqual(new Map([...shown].map(([label, v]) => [label.split(' ')[0]!, v])), perKind);
  assert.deepEqual(await chartValues(page, 'top-authors'), count((e) => e.pubkey));
});

test('code serve: the neighbourhood page draws callers and callees; a click moves to a neighbour', { skip: browserSkip, timeout: 120_000 }, async () => {
  const src = join(root, 'code');
  mkdirSync(src);
  writeFileSync(join(src, 'app.py'), ['def parse(x):', '    return clean(x)', '', 'def clean(x):', '    return x.strip()', '', 'def load(path):', '    return parse(open(path).read())', '',
    'def main():', '    load("a")', '    parse("b")', '', 'def other():', '    clean("c")', ''].join('\n'));
  const db = join(root, 'code.db');
  assert.equal(runCli(['code', 'index', src, '--db', db, '-q']).status, 0);
  const store = await openStore(db, 'read');
  const server = await serveGraph(store, 0);
  try {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const page = await load(`${base}/neighbourhood?name=parse`, 'code-neighbourhood');
    const sides = async (): Promise<Record<string, string[]>> => {
      const boxes = await page.$$eval('[data-chart="neighbourhood"] rect[data-side]', (els) => els.map((e) => [e.getAttribute('data-side')!, e.parentNode!.querySelector('text')!.textContent!] as [string, string]));
      const out: Record<string, string[]> = {};
      for (const [side, name] of boxes) (out[side] ??= []).push(name);
      for (const k of Object.keys(out)) out[k]!.sort();
      return out;
    };
    assert.deepEqual(await sides(), { center: ['parse'], caller: ['load', 'main'], callee: ['clean'] });
    assert.equal(await page.$$eval('[data-chart="neighbourhood"] path[data-edge]', (els) => els.length), 4, 'load→parse, main→parse, parse→clean, main→load');
    await Promise.all([page.waitForNavigation(), page.click('[data-chart="neighbourhood"] rect[data-side="callee"]')]);
    await page.waitForSelector('body[data-ready="true"]');
    assert.deepEqual(await sides(), { center: ['clean'], caller: ['other', 'parse'] });
    const missing = await fetch(`${base}/neighbourhood?name=no_such_thing`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /text\/html/);
  } finally {
    server.close();
    await store.close();
  }
});
