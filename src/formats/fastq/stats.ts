/**
 * `seqkit stats -a` numbers, as partial results that merge associatively: each worker folds its
 * chunk into a {@link StatsPartial} (sums, min/max, a run-length histogram of read lengths and byte
 * histograms of sequences and qualities); the main thread only merges partials, so the answer does
 * not depend on chunking or on `-j`.
 */
import { F, LEN, parseChunk, QUAL, SEQ, type ParsedChunk, type ParseOptions } from './parse.js';
import { Counts, countQual, countSeq } from './swar.js';

export interface StatsPartial {
  records: number;
  sumLen: number;
  minLen: number;
  maxLen: number;
  /** Distinct read lengths, ascending, and how many reads have each. */
  lenValues: number[];
  lenCounts: number[];
  /** G+C (either case), gap (`-` `.`) and Q>=20 / Q>=30 bases of valid records. */
  gc: number;
  gaps: number;
  q20: number;
  q30: number;
  /**
   * The first valid record's sequence (first 10,000 bytes): seqkit guesses the type from it alone
   * (`--alphabet-guess-seq-length`), so the guess is made from the earliest partial when merging.
   */
  firstSeq: string | null;
}

export function emptyPartial(): StatsPartial {
  return { records: 0, sumLen: 0, minLen: Infinity, maxLen: 0, lenValues: [], lenCounts: [], gc: 0, gaps: 0, q20: 0, q30: 0, firstSeq: null };
}

/** Merges two ascending run-length lists. */
function mergeRuns(av: number[], ac: number[], bv: number[], bc: number[]): [number[], number[]] {
  const v: number[] = [];
  const c: number[] = [];
  let i = 0;
  let j = 0;
  while (i < av.length || j < bv.length) {
    const x = i < av.length ? av[i]! : Infinity;
    const y = j < bv.length ? bv[j]! : Infinity;
    const m = Math.min(x, y);
    v.push(m);
    c.push((x === m ? ac[i++]! : 0) + (y === m ? bc[j++]! : 0));
  }
  return [v, c];
}

/** Associative merge; `a` is the earlier part of the input (only the type guess depends on order). */
export function mergePartials(a: StatsPartial, b: StatsPartial): StatsPartial {
  const [lenValues, lenCounts] = mergeRuns(a.lenValues, a.lenCounts, b.lenValues, b.lenCounts);
  return {
    records: a.records + b.records,
    sumLen: a.sumLen + b.sumLen,
    minLen: Math.min(a.minLen, b.minLen),
    maxLen: Math.max(a.maxLen, b.maxLen),
    lenValues,
    lenCounts,
    gc: a.gc + b.gc,
    gaps: a.gaps + b.gaps,
    q20: a.q20 + b.q20,
    q30: a.q30 + b.q30,
    firstSeq: a.firstSeq ?? b.firstSeq,
  };
}

/** Read lengths as sorted runs: sorting a chunk's lengths (a few 10k) is cheaper than a Map update per read. */
function lengthRuns(index: Int32Array, count: number): [number[], number[]] {
  const lens = new Int32Array(count);
  for (let r = 0; r < count; r++) lens[r] = index[r * F + LEN]!;
  lens.sort();
  const v: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < count; r++) {
    const x = lens[r]!;
    if (v.length > 0 && v[v.length - 1] === x) c[c.length - 1]!++;
    else {
      v.push(x);
      c.push(1);
    }
  }
  return [v, c];
}

/** Counts of the valid records of a chunk parsed in checking mode (the slow path). */
function countsOf(p: ParsedChunk, phred: number): Counts {
  const k = new Counts();
  for (let r = 0; r < p.count; r++) {
    const o = r * F;
    const len = p.index[o + LEN]!;
    countSeq(p.buf, null, p.index[o + SEQ]!, p.index[o + SEQ]! + len, k);
    countQual(p.buf, null, p.index[o + QUAL]!, p.index[o + QUAL]! + len, 0, phred, k);
  }
  return k;
}

/**
 * Parses a chunk and folds it into a partial. The fast path counts bases while parsing and only
 * notes whether a character was out of range; only a chunk that has one is parsed again in checking
 * mode, to find, report and leave out the bad records.
 */
export function statsOfChunk(bytes: Uint8Array, opts: ParseOptions): { partial: StatsPartial; parsed: ParsedChunk } {
  const phred = opts.phred ?? 33;
  let parsed = parseChunk(bytes, { ...opts, counts: true, ids: false });
  let k = parsed.counts!;
  if (k.bad) {
    parsed = parseChunk(bytes, { ...opts, counts: false, ids: false });
    k = countsOf(parsed, phred);
  }
  const [lenValues, lenCounts] = lengthRuns(parsed.index, parsed.count);
  let sumLen = 0;
  for (let i = 0; i < lenValues.length; i++) sumLen += lenValues[i]! * lenCounts[i]!;
  const partial: StatsPartial = {
    records: parsed.count,
    sumLen,
    minLen: lenValues.length > 0 ? lenValues[0]! : Infinity,
    maxLen: lenValues.length > 0 ? lenValues[lenValues.length - 1]! : 0,
    lenValues,
    lenCounts,
    gc: k.gc,
    gaps: k.gaps,
    q20: k.q20,
    q30: k.q30,
    firstSeq: parsed.count > 0 ? firstSequence(parsed) : null,
  };
  return { partial, parsed };
}

const GUESS_LEN = 10_000;

function firstSequence(p: ParsedChunk): string {
  const s = p.index[SEQ]!;
  const len = Math.min(p.index[LEN]!, GUESS_LEN);
  return Buffer.from(p.buf.buffer, p.buf.byteOffset + s, len).toString('latin1');
}

/** The row `seqkit stats -a` prints for one file. */
export interface FastqStats {
  file: string;
  format: 'FASTQ' | '';
  type: 'DNA' | 'RNA' | 'Protein' | '';
  num_seqs: number;
  sum_len: number;
  min_len: number;
  avg_len: number;
  max_len: number;
  Q1: number;
  Q2: number;
  Q3: number;
  sum_gap: number;
  N50: number;
  'Q20(%)': number;
  'Q30(%)': number;
  'GC(%)': number;
}

/** The length at 0-based rank k of the sorted lengths. */
function lengthAtRank(p: StatsPartial, k: number): number {
  let seen = 0;
  for (let i = 0; i < p.lenValues.length; i++) {
    seen += p.lenCounts[i]!;
    if (k < seen) return p.lenValues[i]!;
  }
  return 0;
}

/** Median of the sorted lengths at ranks [from, from + n). */
function medianOfRanks(p: StatsPartial, from: number, n: number): number {
  if (n <= 0) return 0;
  const mid = from + Math.floor(n / 2);
  return n % 2 === 1 ? lengthAtRank(p, mid) : (lengthAtRank(p, mid - 1) + lengthAtRank(p, mid)) / 2;
}

/**
 * Quartiles as Tukey's hinges: Q2 is the median; Q1/Q3 the medians of the lower/upper half, each
 * half including the median when the count is odd. This equals seqkit's numbers on every file we
 * compared except where seqkit 2.3.0 halves Q1/Q3 (all reads of one length: 12.5 for 25 bp reads);
 * see docs/decisions/0007-fastq-stats.md.
 */
export function quartiles(p: StatsPartial): [number, number, number] {
  const n = p.records;
  const half = Math.ceil(n / 2);
  return [medianOfRanks(p, 0, half), medianOfRanks(p, 0, n), medianOfRanks(p, n - half, half)];
}

/** N50: the length L such that reads of length >= L hold at least half of all bases. */
export function n50(p: StatsPartial): number {
  let acc = 0;
  for (let i = p.lenValues.length - 1; i >= 0; i--) {
    acc += p.lenValues[i]! * p.lenCounts[i]!;
    if (acc * 2 >= p.sumLen) return p.lenValues[i]!;
  }
  return 0;
}

const DNA = new Set('ACGTRYMKSWHBVDNacgtrymkswhbvdn-. *');
const RNA = new Set('ACGURYMKSWHBVDNacgurymkswhbvdn-. *');

/** seqkit's alphabet guess (DNA, else RNA, else protein) from the start of the first sequence. */
function alphabet(firstSeq: string | null): FastqStats['type'] {
  if (firstSeq === null) return '';
  const used = [...new Set(firstSeq)];
  if (used.every((c) => DNA.has(c))) return 'DNA';
  if (used.every((c) => RNA.has(c))) return 'RNA';
  return 'Protein';
}

const pct = (a: number, b: number): number => (b > 0 ? (100 * a) / b : 0);

/** The printed numbers of a merged partial (Q20/Q30 were counted in the workers with the run's --phred). */
export function finalizeStats(file: string, p: StatsPartial): FastqStats {
  const [Q1, Q2, Q3] = quartiles(p);
  return {
    file,
    format: p.records > 0 ? 'FASTQ' : '',
    type: alphabet(p.firstSeq),
    num_seqs: p.records,
    sum_len: p.sumLen,
    min_len: p.records > 0 ? p.minLen : 0,
    avg_len: p.records > 0 ? p.sumLen / p.records : 0,
    max_len: p.maxLen,
    Q1,
    Q2,
    Q3,
    sum_gap: p.gaps,
    N50: n50(p),
    'Q20(%)': pct(p.q20, p.sumLen),
    'Q30(%)': pct(p.q30, p.sumLen),
    'GC(%)': pct(p.gc, p.sumLen),
  };
}

export const STATS_COLUMNS: (keyof FastqStats)[] = ['file', 'format', 'type', 'num_seqs', 'sum_len', 'min_len', 'avg_len', 'max_len', 'Q1', 'Q2', 'Q3', 'sum_gap', 'N50', 'Q20(%)', 'Q30(%)', 'GC(%)'];

/** A cell as seqkit prints it: 1 decimal for averages and quartiles, 2 for percentages. */
export function formatCell(s: FastqStats, k: keyof FastqStats): string {
  const v = s[k];
  if (typeof v === 'string') return v;
  if (k === 'avg_len' || k === 'Q1' || k === 'Q2' || k === 'Q3') return v.toFixed(1);
  if (k.endsWith('(%)')) return v.toFixed(2);
  return String(v);
}

export function statsTsv(rows: FastqStats[]): string {
  const lines = [STATS_COLUMNS.join('\t'), ...rows.map((r) => STATS_COLUMNS.map((k) => formatCell(r, k)).join('\t'))];
  return lines.join('\n') + '\n';
}

/** An aligned table like seqkit's default output (numbers right-aligned, with thousands separators). */
export function statsTable(rows: FastqStats[]): string {
  const cells = rows.map((r) => STATS_COLUMNS.map((k) => {
    const t = formatCell(r, k);
    return typeof r[k] === 'number' ? t.replace(/^(\d+)/, (d) => Number(d).toLocaleString('en-US')) : t;
  }));
  const head = STATS_COLUMNS.map(String);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[], header: boolean): string => c.map((x, i) => (i < 3 || header ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(head, true), ...cells.map((c) => fmt(c, false))].join('\n') + '\n';
}

/**
 * `fastq stats --json`: one shape whatever the number of inputs — a list of per-file objects and
 * their total (all inputs' records as one set: the total's quartiles and N50 are of all reads,
 * not sums of the files'), so a script never checks whether it got an object or an array.
 */
export function statsJson(rows: FastqStats[], partials: StatsPartial[]): { files: FastqStats[]; total: FastqStats } {
  return { files: rows, total: finalizeStats('total', partials.reduce(mergePartials, emptyPartial())) };
}
