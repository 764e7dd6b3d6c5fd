/**
 * The walk of `code index`: which files of a folder are source to parse, and why every other
 * entry was skipped. `.gitignore` files apply at every level (a deeper one may re-include with
 * `!`), `.git/info/exclude` at the root; well-known vendored and build folders are skipped by
 * whole path segment (`vendor/` skips `a/vendor/x.go`, never `vendored.go` or `my_vendor/`).
 * Binary sniffing and hashing happen in the workers (they read the file anyway).
 * Entries are visited in byte order of their names, so the plan, and with it the database, is
 * the same on every run and file system.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isTemporaryName } from '../../engine/atomic.js';
import { languageOf, type Language } from './languages.js';

export const VENDORED_DIRS: ReadonlySet<string> = new Set(['node_modules', 'vendor', 'target', 'dist', 'build', '.venv', '__pycache__', '.git']);

export type SkipReason = 'ignored' | 'vendored' | 'unsupported' | 'language' | 'too_large' | 'binary' | 'symlink' | 'unreadable';

export interface Skip { path: string; reason: SkipReason; bytes: number }

export interface WalkedFile { path: string; abs: string; language: Language; bytes: number }

export interface WalkOptions { maxFileSize: number; languages?: readonly Language[] }

export interface WalkResult { files: WalkedFile[]; skipped: Skip[] }

interface Matcher { base: string; ig: Ignore }

function loadIgnore(file: string): Ignore | null {
  if (!existsSync(file)) return null;
  try {
    return ignore({ allowRelativePaths: true }).add(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Later (deeper) matchers override earlier ones, as git does. */
function isIgnored(matchers: Matcher[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const m of matchers) {
    const sub = m.base === '' ? rel : rel.slice(m.base.length + 1);
    const r = m.ig.test(isDir ? `${sub}/` : sub);
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}

function byteOrder(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function walkSources(root: string, options: WalkOptions): WalkResult {
  const files: WalkedFile[] = [];
  const skipped: Skip[] = [];
  const rootMatchers: Matcher[] = [];
  const exclude = loadIgnore(join(root, '.git', 'info', 'exclude'));
  if (exclude) rootMatchers.push({ base: '', ig: exclude });
  const visit = (dirRel: string, matchers: Matcher[]): void => {
    const dirAbs = dirRel === '' ? root : join(root, dirRel);
    const own = loadIgnore(join(dirAbs, '.gitignore'));
    const here = own ? [...matchers, { base: dirRel, ig: own }] : matchers;
    let entries: Dirent[];
    try {
      entries = readdirSync(dirAbs, { withFileTypes: true });
    } catch {
      skipped.push({ path: `${dirRel}/`, reason: 'unreadable', bytes: 0 });
      return;
    }
    entries.sort(byteOrder);
    for (const e of entries) {
      // Another run's unfinished output (a shard's part, a --db inside the tree) is not the tree:
      // it comes and goes while runs write, and counting it would make the graph depend on timing.
      if (isTemporaryName(e.name)) continue;
      const rel = dirRel === '' ? e.name : `${dirRel}/${e.name}`;
      if (e.isDirectory()) {
        if (VENDORED_DIRS.has(e.name)) skipped.push({ path: `${rel}/`, reason: 'vendored', bytes: 0 });
        else if (isIgnored(here, rel, true)) skipped.push({ path: `${rel}/`, reason: 'ignored', bytes: 0 });
        else visit(rel, here);
        continue;
      }
      if (e.name === '.gitignore') continue;
      if (isIgnored(here, rel, false)) {
        skipped.push({ path: rel, reason: 'ignored', bytes: 0 });
        continue;
      }
      if (e.isSymbolicLink()) {
        skipped.push({ path: rel, reason: 'symlink', bytes: 0 });
        continue;
      }
      if (!e.isFile()) continue;
      fileEntry(rel, join(dirAbs, e.name), options, files, skipped);
    }
  };
  visit('', rootMatchers);
  return { files, skipped };
}

function fileEntry(rel: string, abs: string, options: WalkOptions, files: WalkedFile[], skipped: Skip[]): void {
  const language = languageOf(rel);
  let bytes = 0;
  try {
    bytes = lstatSync(abs).size;
  } catch {
    skipped.push({ path: rel, reason: 'unreadable', bytes: 0 });
    return;
  }
  if (!language) skipped.push({ path: rel, reason: 'unsupported', bytes });
  else if (options.languages && !options.languages.includes(language) && !(language === 'c' && rel.endsWith('.h') && options.languages.includes('cpp'))) skipped.push({ path: rel, reason: 'language', bytes });
  else if (bytes > options.maxFileSize) skipped.push({ path: rel, reason: 'too_large', bytes });
  else files.push({ path: rel, abs, language, bytes });
}
