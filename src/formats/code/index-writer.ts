/**
 * The writes of one `code index` run into a store that may hold an earlier graph of the folder:
 * files gone since are removed, each batch of facts is written in walk order (a changed file's old
 * rows removed first), skipped files are gathered for the end, and the summary's counts are kept.
 */
import type { CodeStore } from '../../sinks/code-store.js';
import type { FileFacts } from './facts.js';
import type { SkipReason, WalkResult } from './walk.js';
import { FactsWriter, removeFile } from './write.js';

export interface SyntaxErrorAt { file: string; line: number; column: number; offset: number }

/** The first few files with syntax errors are named in the summary; the error log has them all. */
const SYNTAX_ERRORS_KEPT = 20;

export class IndexWriter {
  private parsed = 0;
  private unchanged = 0;
  private removed = 0;
  private parseErrors = 0;
  private bytesParsed = 0;
  private readonly syntaxErrors: SyntaxErrorAt[] = [];
  private readonly skipped: Partial<Record<SkipReason, number>> = {};
  /** Rows of the `files` table for skipped files, written after every indexed one. */
  readonly skipRows: unknown[][] = [];
  private readonly writer: FactsWriter;

  /** `previous`: path → sha256 of the files the store holds as indexed. */
  constructor(private readonly store: CodeStore, private readonly previous: ReadonlyMap<string, string>) {
    this.writer = new FactsWriter(store);
  }

  /** Before the facts: what the store holds of files the walk no longer finds, and the old skips, go. */
  async removeVanished(walk: WalkResult): Promise<void> {
    const walked = new Set(walk.files.map((f) => f.path));
    for (const path of this.previous.keys()) {
      if (walked.has(path)) continue;
      await removeFile(this.store, path);
      this.removed++;
    }
    await this.store.execute("DELETE FROM files WHERE status = 'skipped'");
    for (const s of walk.skipped) this.skip(s.path, null, s.bytes, s.reason);
  }

  /** One batch of facts, in walk order. */
  async write(batch: FileFacts[]): Promise<void> {
    for (const facts of batch) {
      if (facts.status === 'unchanged') {
        this.unchanged++;
        continue;
      }
      if (this.previous.has(facts.path) && (facts.piece?.[0] ?? 0) === 0) {
        // Rows gathered so far go in first, so ids follow the same order as file by file.
        await this.writer.flush();
        await removeFile(this.store, facts.path);
      }
      if (facts.status === 'indexed') this.add(facts);
      else {
        if (this.previous.has(facts.path)) this.removed++;
        this.skip(facts.path, facts.language, facts.bytes, facts.status);
      }
    }
    await this.writer.flush();
  }

  /** A huge file comes as pieces (huge-files.ts): counted once, when the writer has its last; its first syntax error named. */
  private add(facts: FileFacts): void {
    const done = this.writer.add(facts);
    if (done) {
      this.parsed++;
      this.bytesParsed += facts.bytes;
      this.parseErrors += done.parseErrors;
    }
    if (facts.errorAt && this.syntaxErrors.length < SYNTAX_ERRORS_KEPT && this.syntaxErrors.at(-1)?.file !== facts.path) {
      const [line, column, offset] = facts.errorAt;
      this.syntaxErrors.push({ file: facts.path, line, column, offset });
    }
  }

  private skip(path: string, language: string | null, bytes: number, reason: SkipReason): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    this.skipRows.push([path, language, bytes, 0, null, 'skipped', reason, null, 0]);
  }

  counts(): { files_parsed: number; files_unchanged: number; files_removed: number; skipped: Partial<Record<SkipReason, number>>; parse_errors: number; syntax_errors: SyntaxErrorAt[]; bytes_parsed: number } {
    return {
      files_parsed: this.parsed, files_unchanged: this.unchanged, files_removed: this.removed, skipped: this.skipped,
      parse_errors: this.parseErrors, syntax_errors: this.syntaxErrors, bytes_parsed: this.bytesParsed,
    };
  }
}
