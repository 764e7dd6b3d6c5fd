/**
 * The per-event core that runs inside workers: one JSON line in, one checked event (or a categorized
 * rejection) out. Pure apart from the verifier's WASM state; never throws.
 *
 * Checks run cheapest first (parse → shape → kind → id → signature), so signature work, which costs
 * ~100× the rest, is only spent on events that passed everything else. The rules and the edge cases
 * are in docs/decisions/0003-nostr-edge-cases.md.
 */
import { isHex128, isHex64, hexInto, hexToBytes } from './hex.js';
import { computeEventId } from './serialize.js';
import type { Verifier } from './verify.js';

export type { Verifier } from './verify.js';

export interface NostrEvent { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string; sig: string }

/** `invalid_utf8` is decided on the line's bytes before it is decoded (task.ts), never by checkLine. */
export type RejectCategory = 'parse_error' | 'invalid_utf8' | 'invalid_field' | 'invalid_kind' | 'invalid_id' | 'invalid_signature';

export interface ValidationOptions { validateIds: boolean; validateSignatures: boolean; filterKinds: boolean }

/** `id` is 32 raw bytes; it may share its ArrayBuffer with other ids, so copy it before transferring. */
export type CheckResult =
  | { ok: true; event: NostrEvent; id: Uint8Array /* 32 raw bytes */ }
  | { ok: false; category: RejectCategory; reason: string };

type Reject = Extract<CheckResult, { ok: false }>;

/** NIP-01's kind range, which Proton Beam enforces unless kind filtering is switched off. */
export const MAX_KIND = 65535;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const REQUIRED = ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'] as const;

// Reused across calls: a worker is single-threaded and the verifier copies its inputs.
const sigScratch = Buffer.alloc(64);
const pubScratch = Buffer.alloc(32);
const idScratch = Buffer.alloc(32);

/** A class, so a rejection can never be confused with a parsed object that has an `ok` key. */
class Rejection {
  readonly ok = false as const;
  constructor(readonly category: RejectCategory, readonly reason: string) {}
}

function reject(category: RejectCategory, reason: string): Reject {
  return new Rejection(category, reason);
}

function isReject(value: unknown): value is Reject {
  return value instanceof Rejection;
}

/** One input line (without the newline, CR already stripped) → checked event. Never throws. */
export function checkLine(line: string, opts: ValidationOptions, verifier: Verifier | null): CheckResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return parseFailure(line, err);
  }
  const obj = unwrapRelayMessage(value);
  if (isReject(obj)) return obj;
  const ev = checkShape(obj, opts, line);
  if (isReject(ev)) return ev;
  return checkCrypto(ev, opts, verifier);
}

function parseFailure(line: string, err: unknown): Reject {
  if (line.trim() === '') return reject('parse_error', 'empty line');
  return reject('parse_error', `invalid JSON: ${(err as Error).message}`);
}

/**
 * Accepts a bare event object, or a relay message `["EVENT", subId, event]` / `["EVENT", event]`
 * (the form nostrdb and go-nostr dumps use). Anything else is a parse error: the line is valid JSON
 * but not an event record.
 */
function unwrapRelayMessage(value: unknown): Record<string, unknown> | Reject {
  if (Array.isArray(value)) return eventOfRelayMessage(value);
  if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  return reject('parse_error', `expected a JSON object (an event), got ${describe(value)}`);
}

function eventOfRelayMessage(msg: unknown[]): Record<string, unknown> | Reject {
  const label = msg[0];
  if (label !== 'EVENT') {
    const name = typeof label === 'string' ? `"${clip(label)}"` : describe(label);
    return reject('parse_error', `JSON array is a relay message ${name}, not an EVENT`);
  }
  const ev = msg.length === 3 && typeof msg[1] === 'string' ? msg[2] : msg.length === 2 ? msg[1] : undefined;
  if (typeof ev === 'object' && ev !== null && !Array.isArray(ev)) return ev as Record<string, unknown>;
  return reject('parse_error', 'EVENT message must be ["EVENT", <subscription id>, {event}] or ["EVENT", {event}]');
}

/**
 * Field shapes, then the kind range. Returns a fresh object holding only the seven NIP-01 fields:
 * extra keys are dropped (as serde does for Proton Beam), and a fixed key order keeps V8's object
 * shapes monomorphic downstream.
 */
function checkShape(obj: Record<string, unknown>, opts: ValidationOptions, line: string): NostrEvent | Reject {
  for (const key of REQUIRED) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) return reject('invalid_field', `missing field "${key}"`);
  }
  const { id, pubkey, created_at, kind, tags, content, sig } = obj;
  const bad =
    checkHex('id', id, 64) ??
    checkHex('pubkey', pubkey, 64) ??
    checkHex('sig', sig, 128) ??
    checkCreatedAt(created_at, line) ??
    checkKind(kind, opts.filterKinds, line) ??
    checkTags(tags) ??
    checkContent(content);
  if (bad) return bad;
  return {
    id: id as string,
    pubkey: pubkey as string,
    created_at: created_at as number,
    kind: kind as number,
    tags: tags as string[][],
    content: content as string,
    sig: sig as string,
  };
}

function checkHex(field: string, value: unknown, length: 64 | 128): Reject | undefined {
  if (typeof value !== 'string') return reject('invalid_field', `${field} must be a string, got ${describe(value)}`);
  const ok = length === 64 ? isHex64(value) : isHex128(value);
  if (ok) return undefined;
  return reject('invalid_field', `${field} must be ${length} lowercase hex characters, got ${hexProblem(value, length)}`);
}

function hexProblem(value: string, length: number): string {
  if (value.length !== length) return `${value.length} characters`;
  const at = value.search(/[^0-9a-f]/);
  return `"${value.charAt(at)}" at position ${at}`;
}

function checkCreatedAt(value: unknown, line: string): Reject | undefined {
  if (typeof value !== 'number') return reject('invalid_field', `created_at must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value)) return reject('invalid_field', `created_at must be an integer below 2^53, got ${numberAsWritten(line, 'created_at', value)}`);
  if (value < 0) return reject('invalid_field', `created_at must not be negative, got ${numberAsWritten(line, 'created_at', value)}`);
  return undefined;
}

/**
 * The literal of a number field as the line spells it: JSON.parse has already rounded
 * 9007199254740993 to ...992 and 1e400 to Infinity, and a message quoting those would point the
 * user at a value that is not in their file. Only runs for rejected lines. Inside a JSON string
 * a quote is always escaped, so `"key":` cannot match string content; of several matches (an extra
 * field holding an object with the same key), the last one that parses to `value` is the one
 * JSON.parse kept.
 */
function numberAsWritten(line: string, key: string, value: number): string {
  let found: string | undefined;
  for (const m of line.matchAll(new RegExp(`"${key}"[ \\t\\r\\n]*:[ \\t\\r\\n]*(-?[0-9][0-9.eE+-]*)`, 'g'))) {
    if (Number(m[1]) === value) found = m[1];
  }
  return found ?? String(value);
}

function checkKind(value: unknown, filterKinds: boolean, line: string): Reject | undefined {
  if (typeof value !== 'number') return reject('invalid_field', `kind must be a number, got ${describe(value)}`);
  const written = (): string => numberAsWritten(line, 'kind', value);
  if (!Number.isInteger(value)) return reject('invalid_field', `kind must be an integer, got ${written()}`);
  if (filterKinds && (value < 0 || value > MAX_KIND)) {
    return reject('invalid_kind', `kind ${written()} is out of range (0-${MAX_KIND})`);
  }
  if (value < INT32_MIN || value > INT32_MAX) return reject('invalid_field', `kind ${written()} does not fit the protobuf int32 field`);
  return undefined;
}

function checkTags(value: unknown): Reject | undefined {
  if (!Array.isArray(value)) return reject('invalid_field', `tags must be an array, got ${describe(value)}`);
  for (let i = 0; i < value.length; i++) {
    const tag: unknown = value[i];
    if (!Array.isArray(tag)) return reject('invalid_field', `tags[${i}] must be an array, got ${describe(tag)}`);
    for (let j = 0; j < tag.length; j++) {
      const item: unknown = tag[j];
      // A number here cannot survive the protobuf Tag (repeated string) with a verifiable id.
      if (typeof item !== 'string') return reject('invalid_field', `tags[${i}][${j}] must be a string, got ${describe(item)}`);
      if (!isWellFormed(item)) return reject('invalid_field', `tags[${i}][${j}] contains a lone UTF-16 surrogate (not encodable as UTF-8)`);
    }
  }
  return undefined;
}

function checkContent(value: unknown): Reject | undefined {
  if (typeof value !== 'string') return reject('invalid_field', `content must be a string, got ${describe(value)}`);
  if (!isWellFormed(value)) return reject('invalid_field', 'content contains a lone UTF-16 surrogate (not encodable as UTF-8)');
  return undefined;
}

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib typings.
const wellFormed = (String.prototype as unknown as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** False for strings with lone surrogates, which UTF-8 (and so protobuf and serde_json) cannot carry. */
function isWellFormed(s: string): boolean {
  if (wellFormed) return wellFormed.call(s);
  return !/\p{Surrogate}/u.test(s);
}

function checkCrypto(ev: NostrEvent, opts: ValidationOptions, verifier: Verifier | null): CheckResult {
  let id: Uint8Array;
  if (opts.validateIds) {
    const computed = computeEventId(ev);
    if (!computed.equals(hexInto(ev.id, idScratch))) {
      return reject('invalid_id', `id does not match the event (sha256 of its NIP-01 serialization is ${computed.toString('hex')})`);
    }
    id = computed;
  } else {
    id = hexToBytes(ev.id);
  }
  if (opts.validateSignatures && verifier) {
    const ok = verifier.verify(hexInto(ev.sig, sigScratch), id, hexInto(ev.pubkey, pubScratch));
    if (!ok) return reject('invalid_signature', 'sig is not a valid BIP-340 signature of the id by pubkey');
  }
  return { ok: true, event: ev, id };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string ("${clip(value)}")`;
  if (typeof value === 'number') return `a number (${value})`;
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
