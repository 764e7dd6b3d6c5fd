/**
 * The languages `code index` knows: file extensions, the tree-sitter grammar package, and how
 * names are joined in a qualified name. Pure data; the queries are in queries.ts.
 */
export type Language = 'python' | 'javascript' | 'typescript' | 'tsx' | 'rust' | 'go' | 'java' | 'c' | 'cpp';

export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript', 'tsx', 'rust', 'go', 'java', 'c', 'cpp'];

const BY_EXTENSION: Record<string, Language> = {
  '.py': 'python', '.pyi': 'python',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascript',
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.tsx': 'tsx',
  '.rs': 'rust',
  '.go': 'go',
  '.java': 'java',
  '.c': 'c', '.h': 'c',
  '.cc': 'cpp', '.cpp': 'cpp', '.cxx': 'cpp', '.c++': 'cpp', '.hh': 'cpp', '.hpp': 'cpp', '.hxx': 'cpp', '.h++': 'cpp', '.ipp': 'cpp',
};

/** The language of a path by its extension, or null. `.h` is C until its text says C++ (see below). */
export function languageOf(path: string): Language | null {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return null;
  return BY_EXTENSION[path.slice(dot).toLowerCase()] ?? null;
}

/**
 * A `.h` header holding C++ (classes, namespaces, templates) parses into error nodes with the C
 * grammar and loses its classes; these tokens at the start of a line do not occur in C.
 */
const CPP_IN_HEADER = /^\s*(?:class\s+\w+\s*[:{]|namespace\s+\w*\s*\{|template\s*<|public:|private:|protected:)/m;

export function refineLanguage(language: Language, path: string, text: string): Language {
  if (language === 'c' && path.endsWith('.h') && CPP_IN_HEADER.test(text)) return 'cpp';
  return language;
}

/** What joins an owner and a member in a qualified name (`Circle.area`, `Counter::new`). */
export function memberSeparator(language: Language): string {
  return language === 'rust' || language === 'cpp' ? '::' : '.';
}

/** Languages given on the command line, checked. */
export function parseLanguages(list: string): Language[] {
  const out: Language[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim().toLowerCase();
    const lang = (name === 'c++' ? 'cpp' : name === 'js' ? 'javascript' : name === 'ts' ? 'typescript' : name === 'py' ? 'python' : name) as Language;
    if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${JSON.stringify(raw)} (known: ${LANGUAGES.join(', ')})`);
    if (!out.includes(lang)) out.push(lang);
  }
  return out;
}
