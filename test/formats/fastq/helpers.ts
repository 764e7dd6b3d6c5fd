/** Shared helpers of the FASTQ tests: the corpora folder and deterministic synthetic files. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { rng } from '../../helpers/random.js';

export { rng };

/** ../shared/corpora/fastq beside the checkout (tests compile to dist/test/formats/fastq/). */
export const corpusDir = fileURLToPath(new URL('../../../../../shared/corpora/fastq/', import.meta.url));
export const haveCorpus = existsSync(corpusDir);
export const corpusSkip = haveCorpus ? false : `corpus folder ${corpusDir} is absent (fresh clone): skipped`;

export function haveTool(name: string): boolean {
  return spawnSync(name, ['version'], { stdio: 'ignore' }).error === undefined;
}


/**
 * Synthetic FASTQ built to stress framing: many quality lines start with `@` (and `+`), read lengths
 * vary (including 0), some `+` lines repeat the title, optional CRLF.
 */
export function syntheticFastq(records: number, seed: number, opts: { crlf?: boolean; maxLen?: number } = {}): string {
  const r = rng(seed);
  const eol = opts.crlf ? '\r\n' : '\n';
  const maxLen = opts.maxLen ?? 60;
  let out = '';
  for (let i = 0; i < records; i++) {
    const len = i % 17 === 5 ? 0 : 1 + Math.floor(r() * maxLen);
    let seq = '';
    let qual = '';
    for (let k = 0; k < len; k++) {
      seq += 'ACGTN'[Math.floor(r() * (r() < 0.02 ? 5 : 4))];
      qual += String.fromCharCode(33 + Math.floor(r() * 42));
    }
    if (len > 0 && r() < 0.4) qual = '@' + qual.slice(1);
    else if (len > 0 && r() < 0.1) qual = '+' + qual.slice(1);
    const title = `r${i}${r() < 0.3 ? ' desc ' + i : ''}`;
    out += `@${title}${eol}${seq}${eol}+${r() < 0.3 ? title : ''}${eol}${qual}${eol}`;
  }
  return out;
}
