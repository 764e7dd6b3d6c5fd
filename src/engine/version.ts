/**
 * The version of this threadmill (package.json's), for part manifests and `--version`. Read from
 * the package's own package.json, which an installed package always carries.
 */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function threadmillVersion(): string {
  if (cached !== null) return cached;
  // src/engine/ when run from source, dist/src/engine/ when built.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'threadmill' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      /* not there: try the next level */
    }
  }
  return (cached = 'unknown');
}
