/**
 * Name → the definitions of that name, for the resolver's scopes. Most names have one definition,
 * and it is stored bare: a one-element array costs ~56 bytes more per entry. For a 50 MB file's
 * 933,831 definitions, the resolver's tables took 304 MB of heap beside the entities with arrays
 * and `family|qname` keys, 117 MB with bare singletons and a table per family (measured
 * 2026-12-04 by building the resolver over that file's graph, after a full collection; the file
 * is like bench/code-huge.ts's).
 */
export class ByName<V extends object> {
  private readonly map = new Map<string, V | V[]>();

  add(name: string, value: V): void {
    const had = this.map.get(name);
    if (had === undefined) this.map.set(name, value);
    else if (Array.isArray(had)) had.push(value);
    else this.map.set(name, [had, value]);
  }

  /** The definitions named `name` (a fresh one-element array for a single one), or undefined. */
  get(name: string): V[] | undefined {
    const had = this.map.get(name);
    return had === undefined ? undefined : Array.isArray(had) ? had : [had];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  *values(): Generator<V[]> {
    for (const had of this.map.values()) yield Array.isArray(had) ? had : [had];
  }
}
