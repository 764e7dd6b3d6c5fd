/**
 * The worker side of `code index` (engine mode 3): a batch of files → their facts. Each worker
 * reads, sniffs, hashes and parses its files itself, so the main thread only walks directories
 * and writes rows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineItemsTask } from '../../engine/many-inputs.js';
import type { RecordError } from '../../engine/plugin.js';
import { refineLanguage, type Language } from './languages.js';
import { toolsFor, parseText, releaseTrees } from './parsers.js';
import { extractFacts } from './extract.js';
import { isBinary, lineCount, textEncoding } from './file-bytes.js';
import { readPiece, shiftToFile, type FilePiece } from './huge-files.js';
import type { FileFacts } from './facts.js';
import type Parser from 'tree-sitter';

export interface CodeTaskOptions {
  maxFileSize: number;
  includeCode: boolean;
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
  /** One piece of a huge file, planned by the main thread (huge-files.ts). */
  piece?: FilePiece;
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
 * the file parsed again, a few times for nested wrappers. Only `cfg_` macros at item level, and
 * `pin_project!` (pin-project-lite), which emits the struct or enum written in it as it is (tokio:
 * 85 of them, `BufReader` among them) beside the projection types it adds.
 */
const ITEM_MACROS = /^(?:cfg_\w*|pin_project)$/;

function unwrapCfgMacros(tools: ReturnType<typeof toolsFor>, text: string, tree: Parser.Tree): { text: string; tree: Parser.Tree } {
  for (let round = 0; round < 4; round++) {
    const cuts: [number, number][] = [];
    for (const m of tree.rootNode.descendantsOfType('macro_invocation')) {
      const parent = m.parent?.type;
      if (parent !== 'source_file' && parent !== 'declaration_list') continue;
      const body = m.lastChild;
      if (!ITEM_MACROS.test(m.childForFieldName('macro')?.text ?? '') || body?.type !== 'token_tree' || text[body.startIndex] !== '{') continue;
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
  if (item.piece) return factsOfPiece(item, item.piece, options);
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
  const encoding = textEncoding(bytes);
  const text = bytes.toString(encoding);
  const language = refineLanguage(item.language, item.path, text);
  const parsed = parseFacts(language, text, encoding, options.includeCode);
  return { path: item.path, status: 'indexed', language, bytes: bytes.length, lines: lineCount(bytes), sha256, ...parsed };
}

/** One piece of a huge file: its facts on the file's lines and byte offsets, and which piece it is. */
function factsOfPiece(item: FileItem, piece: FilePiece, options: CodeTaskOptions): FileFacts {
  const parsed = parseFacts(piece.language, readPiece(item.abs, item.path, piece).toString(piece.encoding), piece.encoding, options.includeCode);
  shiftToFile(parsed, piece.line);
  if (parsed.errorAt) parsed.errorAt = [parsed.errorAt[0] + piece.line, parsed.errorAt[1], parsed.errorAt[2] + piece.start];
  return { path: item.path, status: 'indexed', language: piece.language, bytes: piece.size, lines: piece.lines, sha256: piece.sha256, ...parsed, piece: [piece.index, piece.count] };
}

type ParsedFacts = Pick<FileFacts, 'pkg' | 'parseErrors' | 'errorAt' | 'entities' | 'refs' | 'imports'>;

function parseFacts(language: Language, text: string, encoding: BufferEncoding, includeCode: boolean): ParsedFacts {
  const tools = toolsFor(language);
  let tree = parseText(tools, text);
  if (language === 'rust') ({ text, tree } = unwrapCfgMacros(tools, text, tree));
  const { pkg, entities, refs, imports } = extractFacts(language, text, tree, tools.query, includeCode);
  const hasError = tree.rootNode.hasError;
  return { pkg, parseErrors: hasError ? 1 : 0, errorAt: hasError ? firstError(tree.rootNode, text, encoding) : undefined, entities, refs, imports };
}

/** A file indexed despite syntax errors, as a record error: counted, echoed, in --rejects, under --max-errors. */
function syntaxError(facts: FileFacts): RecordError[] | undefined {
  if (!facts.errorAt) return undefined;
  const [line, column, offset] = facts.errorAt;
  return [{ category: 'syntax_error', reason: `syntax error at column ${column}; indexed what parsed`, offset, line, input: facts.path }];
}

/** Whole files parsed since the trees were last freed (a piece's tree is freed at once). */
let treesLeft = false;

/**
 * Frees the parse trees left behind. The worker chains queued batches as microtasks; this turn of
 * its event loop is what runs the finalizers that free the trees.
 */
async function freeTrees(): Promise<void> {
  treesLeft = false;
  releaseTrees();
  await new Promise((resolve) => setImmediate(resolve));
}

export default defineItemsTask<CodeTaskOptions, FileItem, FileFacts>({
  async processItem(item, options) {
    const value = await factsOfFile(item, options);
    // A batch may hold several pieces of a huge file: each tree goes before the next is parsed.
    if (item.piece) await freeTrees();
    else treesLeft = true;
    return { value, errors: syntaxError(value) };
  },
  // A batch of pieces has nothing left to free: its last collection would be a second one.
  async afterBatch() {
    if (treesLeft) await freeTrees();
  },
});
