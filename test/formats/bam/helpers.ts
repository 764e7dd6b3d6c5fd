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
  const r = spawnSync('samtools', args, { input, maxBuffer: 1 << 30, encoding: 'buffer' });
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
