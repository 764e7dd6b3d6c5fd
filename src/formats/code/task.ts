/**
 * The worker side of `code index` (engine mode 3): a batch of files → their facts. Each worker
 * reads, sniffs, hashes and parses its files itself, so the main thread only walks directories
 * and writes rows.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineItemsTask } from '../../engine/many-inputs.js';
import type { RecordError } from '../../engine/plugin.js';
import { refineLanguage, type Language } from './languages.js';
import { toolsFor, parseText, releaseTrees } from './parsers.js';
import { extractFacts, type Extracted } from './extract.js';
import { appendPiece, cutPoints, HUGE_FILE, pieceChars } from './huge-files.js';
import type { FileFacts } from './facts.js';
import type Parser from 'tree-sitter';

export interface CodeTaskOptions {
  maxFileSize: number;
  includeCode: boolean;
  /** Files over this many bytes are parsed in pieces (huge-files.ts); tests force it small. */
  hugeFile?: number;
  /** Characters a piece holds at least. */
  chunkChars?: number;
}

export interface FileItem {
  /** Absolute path to read. */
  abs: string;
  /** Path relative to the indexed folder, with `/`. */
  path: string;
  language: Language;
  /** Bytes from the walk's stat plus a cost per file; balances batches. */
  weight: number;
  /** Bytes from the walk's stat (progress). */
  bytes?: number;
  /** The content hash stored by the previous index, if any: an equal hash is not parsed again. */
  previousSha?: string;
}

/** Git's own test: a NUL byte in the first 8000 bytes makes a file binary. */
const SNIFF_BYTES = 8000;

export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, SNIFF_BYTES).indexOf(0) >= 0;
}

function empty(item: FileItem, status: FileFacts['status'], bytes: number, sha256 = '', reason?: string): FileFacts {
  return { path: item.path, status, language: item.language, bytes, lines: 0, sha256, pkg: '', parseErrors: 0, entities: [], refs: [], imports: [], reason };
}

/** The first ERROR or MISSING node, as [line, column, byte offset] (tree-sitter counts UTF-16 units). */
function firstError(root: Parser.SyntaxNode, text: string, encoding: BufferEncoding): [number, number, number] | undefined {
  const cursor = root.walk();
  for (;;) {
    const n = cursor.currentNode;
    if (n.type === 'ERROR' || n.isMissing) return [n.startPosition.row + 1, n.startPosition.column + 1, Buffer.byteLength(text.slice(0, n.startIndex), encoding)];
    if (n.hasError && cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) if (!cursor.gotoParent()) return undefined;
  }
}

/**
 * Rust crates (tokio: 325 times) wrap items in `cfg_…! { … }` macros that expand to the items
 * under a `#[cfg]`; tree-sitter sees only a token tree, so `tokio::spawn` itself was no entity.
 * The wrapper (`cfg_rt! {` and its `}`) is blanked with spaces (lines and offsets unchanged) and
 * the file parsed again, a few times for nested wrappers. Only `cfg_` macros at item level.
 */
function unwrapCfgMacros(tools: ReturnType<typeof toolsFor>, text: string, tree: Parser.Tree): { text: string; tree: Parser.Tree } {
  for (let round = 0; round < 4; round++) {
    const cuts: [number, number][] = [];
    for (const m of tree.rootNode.descendantsOfType('macro_invocation')) {
      const parent = m.parent?.type;
      if (parent !== 'source_file' && parent !== 'declaration_list') continue;
      const body = m.lastChild;
      if (!/^cfg_\w*$/.test(m.childForFieldName('macro')?.text ?? '') || body?.type !== 'token_tree' || text[body.startIndex] !== '{') continue;
      cuts.push([m.startIndex, body.startIndex + 1], [body.endIndex - 1, m.endIndex]);
    }
    if (cuts.length === 0) break;
    let out = '';
    let at = 0;
    for (const [a, b] of cuts.sort((x, y) => x[0] - y[0])) {
      out += text.slice(at, a) + text.slice(a, b).replace(/[^\n]/g, ' ');
      at = b;
    }
    text = out + text.slice(at);
    tree = parseText(tools, text);
  }
  return { text, tree };
}

export async function factsOfFile(item: FileItem, options: CodeTaskOptions): Promise<FileFacts> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(item.abs);
  } catch (err) {
    return empty(item, 'unreadable', item.weight, '', (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  // The walk checked the size too, but the file may have grown since.
  if (bytes.length > options.maxFileSize) return empty(item, 'too_large', bytes.length);
  if (isBinary(bytes)) return empty(item, 'binary', bytes.length);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (item.previousSha === sha256) return empty(item, 'unchanged', bytes.length, sha256);
  // Not valid UTF-8 (a Latin-1 source, a stray byte): read as Latin-1, one character a byte, so a
  // name with such a byte stays whole instead of being cut at a U+FFFD the grammar rejects.
  const encoding: BufferEncoding = isUtf8(bytes) ? 'utf8' : 'latin1';
  const fullText = bytes.toString(encoding);
  const language = refineLanguage(item.language, item.path, fullText);
  const tools = toolsFor(language);
  const pieces = bytes.length > (options.hugeFile ?? HUGE_FILE) ? cutPoints(fullText, options.chunkChars ?? pieceChars(fullText.length)) : [0];
  const facts: Extracted = { entities: [], refs: [], imports: [], pkg: '' };
  let errorAt: [number, number, number] | undefined;
  let parseErrors = 0;
  let lineOffset = 0;
  for (let p = 0; p < pieces.length; p++) {
    const start = pieces[p]!;
    let text = pieces.length === 1 ? fullText : fullText.slice(start, pieces[p + 1] ?? fullText.length);
    let tree = parseText(tools, text);
    if (language === 'rust') ({ text, tree } = unwrapCfgMacros(tools, text, tree));
    const piece = extractFacts(language, text, tree, tools.query, options.includeCode);
    if (pieces.length === 1) Object.assign(facts, piece);
    else appendPiece(facts, piece, lineOffset);
    if (tree.rootNode.hasError) {
      parseErrors = 1;
      const at = errorAt ? undefined : firstError(tree.rootNode, text, encoding);
      if (at) errorAt = [at[0] + lineOffset, at[1], at[2] + Buffer.byteLength(fullText.slice(0, start), encoding)];
    }
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineOffset++;
    if (pieces.length > 1) {
      // Free this piece's tree before the next is parsed (huge-files.ts).
      releaseTrees();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  let lines = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 10) lines++;
  return {
    path: item.path, status: 'indexed', language, bytes: bytes.length, lines, sha256, pkg: facts.pkg,
    parseErrors, errorAt, entities: facts.entities, refs: facts.refs, imports: facts.imports,
  };
}

/** A file indexed despite syntax errors, as a record error: counted, echoed, in --rejects, under --max-errors. */
function syntaxError(facts: FileFacts): RecordError[] | undefined {
  if (!facts.errorAt) return undefined;
  const [line, column, offset] = facts.errorAt;
  return [{ category: 'syntax_error', reason: `syntax error at column ${column}; indexed what parsed`, offset, line, input: facts.path }];
}

export default defineItemsTask<CodeTaskOptions, FileItem, FileFacts>({
  async processItem(item, options) {
    const value = await factsOfFile(item, options);
    return { value, errors: syntaxError(value) };
  },
  async afterBatch() {
    releaseTrees();
    // The worker chains queued batches as microtasks; this turn of its event loop is what runs
    // the finalizers that free the trees.
    await new Promise((resolve) => setImmediate(resolve));
  },
});
