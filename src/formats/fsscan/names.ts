/**
 * Facts fs-scans derives outside the scan lines: the file-system name and scan date from the file
 * name (core/database.py), and user / group names from the password and group databases (pass3,
 * which uses pwd/grp; we read /etc/passwd and /etc/group, so names served only by LDAP/SSSD stay
 * NULL here — fs-scans' query falls back to the number for those too).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { daysFromCivil } from '../../engine/civil-date.js';

/** `20260111_csfs1_asp.list.list_all.log` → `asp`; `20260204_desc1_gdex.lfs-scan` → `gdex`. */
export function filesystemFromName(name: string): string | null {
  const b = basename(name);
  const m = /^\d{8}_[^_]+_([^.]+)\.list/.exec(b) ?? /^\d{8}_[^_]+_([^.]+)\.lfs-scan/.exec(b);
  return m ? m[1]! : null;
}

/** Scan date (naive seconds at 00:00) from a leading `YYYYMMDD_`, or null. */
export function scanDateFromName(name: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})_/.exec(basename(name));
  if (!m) return null;
  const [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  return daysFromCivil(y, mo, d) * 86400;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** uid → [user name, first GECOS field or null]. */
export function passwdNames(path = '/etc/passwd'): Map<number, [string, string | null]> {
  const m = new Map<number, [string, string | null]>();
  for (const line of readLines(path)) {
    const f = line.split(':');
    if (f.length < 7 || !/^\d+$/.test(f[2]!)) continue;
    const gecos = f[4]!.split(',')[0]!;
    if (!m.has(+f[2]!)) m.set(+f[2]!, [f[0]!, gecos === '' ? null : gecos]);
  }
  return m;
}

/** gid → group name. */
export function groupNames(path = '/etc/group'): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readLines(path)) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    if (!m.has(+f[2]!)) m.set(+f[2]!, f[0]!);
  }
  return m;
}
