/** `nostr lookup DIR ID… --print`: the events themselves, read from the day files the index names. */
import { join } from 'node:path';
import type { NostrEvent } from './event.js';
import type { IndexRow } from './index-db.js';
import { readPbGz } from './pb-reader.js';
import { printEvent } from './read-commands.js';

/** Prints the found events in the order of `ids` (each day file read once); names the missing on stderr. */
export async function printFound(dir: string, ids: readonly string[], found: ReadonlyMap<string, IndexRow>): Promise<void> {
  const wanted = new Map<string, Set<string>>();
  for (const row of found.values()) {
    const set = wanted.get(row.file_path) ?? new Set<string>();
    set.add(row.id);
    wanted.set(row.file_path, set);
  }
  const events = new Map<string, NostrEvent>();
  for (const [file, set] of wanted) {
    for await (const ev of readPbGz(join(dir, file))) {
      if (set.has(ev.id)) events.set(ev.id, ev);
    }
  }
  for (const id of ids) {
    const row = found.get(id);
    const ev = row && events.get(row.id);
    if (ev) await printEvent(ev);
    else process.stderr.write(`threadmill: not found: ${id}\n`);
  }
}
