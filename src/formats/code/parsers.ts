/**
 * Native tree-sitter parsers, one per language per worker, each with its query compiled once
 * (compiling the C++ query takes ~10 ms; per file it would cost more than parsing a small file).
 * Grammars load on first use, so a Python-only tree never loads the C++ grammar.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type ParserType from 'tree-sitter';
import type { Language } from './languages.js';
import { QUERY_SOURCE } from './queries.js';

const require = createRequire(import.meta.url);

export interface LanguageTools { parser: ParserType; query: ParserType.Query }

const GRAMMAR: Record<Language, () => unknown> = {
  python: () => require('tree-sitter-python'),
  javascript: () => require('tree-sitter-javascript'),
  typescript: () => (require('tree-sitter-typescript') as { typescript: unknown }).typescript,
  tsx: () => (require('tree-sitter-typescript') as { tsx: unknown }).tsx,
  rust: () => require('tree-sitter-rust'),
  go: () => require('tree-sitter-go'),
  java: () => require('tree-sitter-java'),
  c: () => require('tree-sitter-c'),
  cpp: () => require('tree-sitter-cpp'),
};

const cache = new Map<Language, LanguageTools>();

export function toolsFor(language: Language): LanguageTools {
  let tools = cache.get(language);
  if (!tools) {
    const Parser = require('tree-sitter') as typeof ParserType;
    const grammar = GRAMMAR[language]();
    const parser = new Parser();
    parser.setLanguage(grammar);
    tools = { parser, query: new Parser.Query(grammar, QUERY_SOURCE[language]) };
    cache.set(language, tools);
  }
  return tools;
}

/**
 * Parses a whole file. tree-sitter 0.21's Node binding rejects strings longer than its default
 * 32 KiB input buffer ("Invalid argument") unless bufferSize covers the text, so it always does.
 */
export function parseText(tools: LanguageTools, text: string): ParserType.Tree {
  return tools.parser.parse(text, undefined, { bufferSize: text.length * 2 + 2 });
}

/**
 * tree-sitter 0.21's Node binding has no tree.delete(): a tree's native memory (tens of bytes
 * per node) goes only when V8 collects the JS tree and Node then runs its finalizer, and V8,
 * which cannot see that memory, seldom collects a worker whose JS heap stays small. Measured on
 * redis (723 files, 10.6 MB, one thread): RSS grew to 373 MB; with a full collection after each
 * batch of ~1 MB of source it stays at 133 MB (and system time fell 0.95 → 0.33 s, fewer fresh
 * pages), for ~15 ms per collection. The finalizers run on the next turn of the event loop.
 */
let collect: (() => void) | undefined;

export function releaseTrees(): void {
  collectGarbage();
}

/** A full garbage collection (the main thread's resolution uses it too, see resolve.ts). */
export function collectGarbage(): void {
  if (!collect) {
    // The documented V8 flag, set at run time; gc() appears in contexts created afterwards.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
