/** Shared helpers for the BAM tests: corpora, samtools, reading outputs back as SAM lines. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, type Table } from 'apache-arrow';

/** ../shared/corpora/sam-bam beside the repository root (dist/test/formats/bam → 4 levels up). */
export const corpusDir = fileURLToPath(new URL('../../../../../shared/corpora/sam-bam/', import.meta.url));
export const hasCorpus = existsSync(corpusDir);
export const hasSamtools = spawnSync('samtools', ['--version']).status === 0;
export const skipNoSamtools = hasSamtools ? false : 'samtools not installed (apt-get install samtools)';
export const skipNoCorpus = !hasSamtools ? skipNoSamtools : hasCorpus ? false : `corpus not found at ${corpusDir} (clone beside ../shared/corpora)`;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'threadmill-bam-'));
}

export function samtools(args: string[], input?: string | Buffer): string {
  const r = spawnSync('samtools', args, { input: typeof input === 'string' ? Buffer.from(input) : input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`samtools ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout.toString('latin1');
}

/** A SAM text → BAM file via samtools. */
export function samToBam(sam: string, out: string, extra: string[] = []): string {
  samtools(['view', '--no-PG', '-b', ...extra, '-o', out, '-'], sam);
  return out;
}

export function readArrow(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/** The rows of a converted table, printed the way `samtools view` prints records. */
export function tableToSam(t: Table): string[] {
  const lines: string[] = [];
  for (const row of t) {
    const r = row as unknown as Record<string, unknown>;
    const fields = [
      r.qname, r.flag, r.rname ?? '*', r.pos ?? 0, r.mapq ?? 255, r.cigar ?? '*', r.rnext ?? '*', r.pnext ?? 0, r.tlen,
      t.schema.fields.some((f) => f.name === 'seq') ? r.seq ?? '*' : '*',
      t.schema.fields.some((f) => f.name === 'qual') ? r.qual ?? '*' : '*',
    ].map(String);
    const tags = r.tags as { [Symbol.iterator](): Iterator<[string, string]> } | undefined;
    if (tags) for (const [k, v] of tags) fields.push(`${k}:${v}`);
    lines.push(fields.join('\t'));
  }
  return lines;
}

/** `samtools view` of a BAM, one string per record. */
export function samtoolsLines(bam: string): string[] {
  const out = samtools(['view', bam]);
  return out.length === 0 ? [] : out.replace(/\n$/, '').split('\n');
}

/** Reads a whole file. */
export function bytesOf(path: string): Buffer {
  return readFileSync(path);
}

export interface GenOptions { records: number; readLength?: number; refs?: number; seed?: number; longReadLength?: number; longEvery?: number }

/**
 * A deterministic SAM text with varied flags (pairs, unmapped, secondary, duplicates, QC-fail),
 * CIGARs, qualities, `*` fields and several tag types, for tests and the benchmark.
 */
export function generateSam(o: GenOptions): string {
  let x = o.seed ?? 42;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const refs = o.refs ?? 3;
  const refLen = 10_000_000;
  const head = ['@HD\tVN:1.6\tSO:unsorted', ...Array.from({ length: refs }, (_, i) => `@SQ\tSN:chr${i + 1}\tLN:${refLen}`), '@RG\tID:rg1\tSM:s1', '@PG\tID:gen\tPN:threadmill-test'];
  const lines: string[] = [head.join('\n')];
  const bases = 'ACGT';
  const flags = [99, 147, 83, 163, 0, 16, 4, 256, 1024 + 99, 512 + 16, 2048, 73, 133, 137, 69];
  for (let i = 0; i < o.records; i++) {
    const long = o.longEvery && i % o.longEvery === 0;
    const len = long ? o.longReadLength ?? 50_000 : o.readLength ?? 150;
    let flag = flags[rnd(flags.length)]!;
    const unmapped = (flag & 4) !== 0;
    const ref = unmapped && rnd(2) === 0 ? '*' : `chr${1 + rnd(refs)}`;
    if (ref === '*') flag |= 4;
    const pos = ref === '*' ? 0 : 1 + rnd(refLen - len);
    const mapq = ref === '*' || flag & 4 ? 0 : rnd(4) === 0 ? 255 : rnd(61);
    let seq = '';
    for (let j = 0; j < len; j++) seq += bases[rnd(4)]!;
    let qual = '';
    for (let j = 0; j < len; j++) qual += String.fromCharCode(35 + rnd(40));
    const cigar = flag & 4 ? '*' : rnd(3) === 0 ? `${len - 10}M2I8M` : rnd(2) ? `5S${len - 5}M` : `${len}M`;
    const paired = (flag & 1) !== 0;
    const rnext = !paired ? '*' : rnd(3) === 0 ? `chr${1 + rnd(refs)}` : '=';
    const pnext = rnext === '*' ? 0 : 1 + rnd(refLen - 1000);
    const tlen = rnext === '=' ? rnd(1000) - 500 : 0;
    const secondaryNoSeq = (flag & 256) !== 0 && rnd(2) === 0;
    const tags = [`NM:i:${rnd(10)}`, `AS:i:${rnd(200) - 50}`, 'RG:Z:rg1'];
    if (rnd(3) === 0) tags.push(`XF:f:${(rnd(20000) / 7 - 100).toPrecision(6)}`);
    if (rnd(4) === 0) tags.push(`ML:B:C,${rnd(256)},${rnd(256)}`);
    if (rnd(5) === 0) tags.push(`XA:A:${'ACGT'[rnd(4)]}`);
    lines.push([`r${i}:${rnd(1e6)}`, flag, ref, pos, mapq, cigar, rnext, pnext, tlen, secondaryNoSeq ? '*' : seq, secondaryNoSeq || rnd(10) === 0 ? '*' : qual, ...tags].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** Asserts equal SAM lines, reporting the first differing field shortly (reads can be 1 Mbp). */
export function assertSameLines(ours: string[], theirs: string[], what: string): void {
  if (ours.length !== theirs.length) throw new Error(`${what}: ${ours.length} records, samtools has ${theirs.length}`);
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] === theirs[i]) continue;
    const a = ours[i]!.split('\t');
    const b = theirs[i]!.split('\t');
    const k = a.findIndex((v, j) => v !== b[j]);
    const cut = (s: string | undefined): string => (s === undefined ? '(none)' : s.length > 120 ? `${s.slice(0, 120)}… (${s.length} chars)` : s);
    throw new Error(`${what}: record ${i + 1} field ${(k < 0 ? a.length : k) + 1}: ours ${cut(a[k < 0 ? a.length : k])} vs samtools ${cut(b[k < 0 ? a.length : k])}`);
  }
}
