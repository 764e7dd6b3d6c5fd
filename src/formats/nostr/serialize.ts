/** The NIP-01 serialization an event id is the sha256 of. */
import { hash } from 'node:crypto';
import type { NostrEvent } from './event.js';

/**
 * `[0,pubkey,created_at,kind,tags,content]` as compact JSON.
 *
 * JSON.stringify is used on purpose: it escapes exactly `"` `\\` `\b \f \n \r \t` by name and the
 * other C0 controls as lowercase `\u00XX`, leaves DEL, U+2028 and all other non-ASCII raw — the same
 * bytes serde_json (Proton Beam, rust-nostr) and nostr-tools produce, so it reproduces the ids real
 * events carry. It is also native, so faster than any JS escaper. Lone surrogates would be escaped
 * as `\udXXX` (which serde_json refuses); checkLine rejects those before they get here.
 */
export function serializeForId(ev: Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>): string {
  return JSON.stringify([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content]);
}

/** sha256 of the NIP-01 serialization (UTF-8): the id the event should carry, as 32 raw bytes. */
export function computeEventId(ev: Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>): Buffer {
  // One-shot crypto.hash avoids creating a Hash object per event (measurably faster for short input).
  return hash('sha256', serializeForId(ev), 'buffer');
}
