/**
 * Table outputs (Arrow IPC file, IPC stream, Parquet) chosen from the output's name, once for every
 * format, and the append that `merge` uses to join the table files of parts into one.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { ThreadmillError, UsageError } from '../engine/errors.js';
import { isStreamTarget } from '../engine/output-target.js';

/** `arrow`: the IPC file format (with a footer); `arrows`: the IPC stream format; `parquet`. */
export type TableKind = 'arrow' | 'arrows' | 'parquet';

const EXTENSIONS: Record<string, TableKind> = { parquet: 'parquet', pq: 'parquet', arrow: 'arrow', feather: 'arrow', ipc: 'arrow', arrows: 'arrows' };

/** The output's extension (lower case) when it names a table kind; null otherwise. */
export function tableExtensionOf(path: string): string | null {
  const m = /\.([a-z]+)$/i.exec(path);
  const ext = m?.[1]?.toLowerCase();
  return ext !== undefined && Object.hasOwn(EXTENSIONS, ext) ? ext : null;
}

/** The table kind of an extension from tableExtensionOf. */
export function tableKindOfExtension(ext: string): TableKind {
  const key = ext.toLowerCase();
  const kind = Object.hasOwn(EXTENSIONS, key) ? EXTENSIONS[key] : undefined;
  if (!kind) throw new UsageError(`.${ext} is not a table output: use .parquet, .arrow or .arrows`);
  return kind;
}

/**
 * What to write at `path`: from its extension; `-`, a pipe or a terminal get the IPC stream (it
 * needs no seek back for a footer). A usage error when the name says nothing.
 */
export function tableKindOf(path: string): TableKind {
  const ext = tableExtensionOf(path);
  if (ext) return EXTENSIONS[ext]!;
  if (isStreamTarget(path)) return 'arrows';
  throw new UsageError(`cannot tell the output format from ${JSON.stringify(path)}: use .parquet, .arrow or .arrows`);
}

/**
 * Appends table files of one kind into `target` (a temporary the caller commits; `name` is the final
 * path, for messages): IPC messages or
 * Parquet row groups copied as bytes, never decoded, so the result is the file one writer would
 * have written from the same batches.
 */
export async function appendTableFiles(files: readonly string[], kind: TableKind, target: string, name = target): Promise<void> {
  try {
    if (files.length === 1) copyFileSync(files[0]!, target);
    else if (kind === 'parquet') {
      // Loaded here: stats runs and merges of stats need no Parquet code.
      const { ParquetMerger } = await import('./parquet-merge.js');
      const m = new ParquetMerger(target);
      for (const f of files) m.append(readFileSync(f));
      m.finish();
    } else (await import('./ipc-append.js')).appendIpc([...files], target);
  } catch (err) {
    throw err instanceof ThreadmillError ? err : new ThreadmillError('MERGE_FAILED', `merging into ${name}: ${(err as Error).message}`, { cause: err });
  }
}
