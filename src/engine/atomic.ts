/**
 * Crash-safe outputs. Every output is written under a hidden temporary name beside its final
 * path (same file system, so rename is atomic) and renamed into place only by commit(). A run
 * with several outputs writes a journal first, so a crash in the middle of the renames is rolled
 * forward by the next run (recoverJournals); abort() and stale-temp cleanup remove the rest.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TMP_MARK = '.threadmill-tmp-';
const JOURNAL_PREFIX = '.threadmill-journal-';
let counter = 0;

export class OutputTransaction {
  private readonly renames: { tmp: string; final: string }[] = [];
  private done = false;

  /** A temporary path for `finalPath`; the file appears at `finalPath` on commit(). */
  tempFor(finalPath: string): string {
    const dir = dirname(finalPath);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(finalPath)}${TMP_MARK}${process.pid}-${++counter}`);
    this.renames.push({ tmp, final: finalPath });
    return tmp;
  }

  /** Renames every temporary into place; with several outputs, through a journal in `journalDir`. */
  commit(journalDir?: string): void {
    if (this.done) return;
    const list = this.renames.filter((r) => existsSync(r.tmp));
    let journal: string | null = null;
    if (list.length > 1 && journalDir) {
      journal = join(journalDir, `${JOURNAL_PREFIX}${process.pid}-${Date.now()}.json`);
      writeDurably(journal, JSON.stringify(list));
    }
    for (const r of list) renameSync(r.tmp, r.final);
    if (journal) rmSync(journal, { force: true });
    this.done = true;
  }

  /** Removes every temporary; the final paths keep what they held before the run. */
  abort(): void {
    if (this.done) return;
    for (const r of this.renames) rmSync(r.tmp, { force: true, recursive: true });
    this.done = true;
  }
}

function writeDurably(path: string, text: string): void {
  writeFileSync(path, text);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes the renames of a run that crashed while committing, then removes temporaries left by
 * runs that are no longer alive. Call before reading or writing `dir`.
 */
export function recoverDirectory(dir: string): { rolledForward: number; removed: number } {
  if (!existsSync(dir)) return { rolledForward: 0, removed: 0 };
  let rolledForward = 0;
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(JOURNAL_PREFIX)) continue;
    const path = join(dir, name);
    const list = JSON.parse(readFileSync(path, 'utf8')) as { tmp: string; final: string }[];
    for (const r of list) {
      if (existsSync(r.tmp)) {
        renameSync(r.tmp, r.final);
        rolledForward++;
      }
    }
    rmSync(path, { force: true });
  }
  for (const name of readdirSync(dir)) {
    const at = name.indexOf(TMP_MARK);
    if (at < 0) continue;
    const pid = Number(name.slice(at + TMP_MARK.length).split('-')[0]);
    if (!pidAlive(pid)) {
      rmSync(join(dir, name), { force: true, recursive: true });
      removed++;
    }
  }
  return { rolledForward, removed };
}

/** True for names that belong to an unfinished run (readers skip them). */
export function isTemporaryName(name: string): boolean {
  return name.includes(TMP_MARK) || name.startsWith(JOURNAL_PREFIX);
}
