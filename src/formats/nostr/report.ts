/**
 * `threadmill nostr report DIR -o report.html`: an archive at a glance, from index.db alone (no day
 * file is read): events per day, per kind, and the most active authors, as one self-contained page
 * (src/sinks/html-report.ts).
 */
import type { Report } from '../../sinks/html-report.js';
import { openIndexReadOnly } from './index-db.js';

const TOP = 25;

/** Common kinds by name (NIP-01, -02, -04, -09, -18, -25, -57, -23); others show as numbers. */
const KIND_NAMES: Record<number, string> = { 0: 'metadata', 1: 'note', 3: 'follows', 4: 'DM', 5: 'deletion', 6: 'repost', 7: 'reaction', 9735: 'zap', 10002: 'relay list', 30023: 'article' };

export function nostrReport(dir: string): Report {
  const db = openIndexReadOnly(dir);
  try {
    const days = db.prepare("SELECT strftime('%Y-%m-%d', created_at, 'unixepoch') AS day, COUNT(*) AS n FROM events GROUP BY day ORDER BY day").all() as { day: string | null; n: number }[];
    const kinds = db.prepare(`SELECT kind, COUNT(*) AS n FROM events GROUP BY kind ORDER BY n DESC, kind LIMIT ${TOP}`).all() as { kind: number; n: number }[];
    const authors = db.prepare(`SELECT pubkey, COUNT(*) AS n FROM events GROUP BY pubkey ORDER BY n DESC, pubkey LIMIT ${TOP}`).all() as { pubkey: string; n: number }[];
    const t = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT pubkey) AS authors, MIN(created_at) AS lo, MAX(created_at) AS hi, COUNT(DISTINCT file_path) AS files FROM events').get() as { n: number; authors: number; lo: number | null; hi: number | null; files: number };
    const date = (s: number | null): string => (s === null ? '-' : new Date(Math.min(s, 8.64e12) * 1000).toISOString().slice(0, 19).replace('T', ' '));
    return {
      title: `Nostr archive: ${dir}`,
      subtitle: `threadmill nostr report of ${dir}/index.db`,
      facts: [['events', t.n.toLocaleString('en-US')], ['authors', t.authors.toLocaleString('en-US')], ['day files', t.files.toLocaleString('en-US')], ['earliest', `${date(t.lo)} UTC`], ['latest', `${date(t.hi)} UTC`]],
      charts: [
        { kind: 'columns', id: 'events-per-day', title: 'Events per day (UTC)', unit: 'count', bars: days.map((d) => ({ label: d.day ?? 'out of range', value: d.n })) },
        { kind: 'bars', id: 'events-per-kind', title: `Events per kind (top ${TOP})`, unit: 'count', bars: kinds.map((k) => ({ label: KIND_NAMES[k.kind] ? `${k.kind} ${KIND_NAMES[k.kind]}` : String(k.kind), value: k.n, title: `kind ${k.kind}` })) },
        { kind: 'bars', id: 'top-authors', title: `Most active authors (top ${TOP})`, unit: 'count', bars: authors.map((a) => ({ label: a.pubkey, value: a.n, title: a.pubkey })), note: 'Public keys in hex; hover for the whole key.' },
      ],
    };
  } finally {
    db.close();
  }
}
