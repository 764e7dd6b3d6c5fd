/**
 * Streams the events of a `.pb.gz` day file (one or more gzip members of varint-delimited
 * ProtoEvents) without holding the file in memory: a day file can be gigabytes.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline, type Readable } from 'node:stream';
import { decodeEvent, Reader, ProtoDecodeError } from './proto.js';
import { ThreadmillError } from '../../engine/errors.js';
import type { NostrEvent } from './event.js';

/** Length and header size of the delimited record at `pos`, or null when the bytes end first. */
function recordAt(buf: Uint8Array, pos: number): { start: number; end: number } | null {
  let len = 0;
  let scale = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    len += (b & 0x7f) * scale;
    if (b < 0x80) return i + 1 + len <= buf.length ? { start: i + 1, end: i + 1 + len } : null;
    scale *= 128;
  }
  if (buf.length - pos >= 10) throw new ProtoDecodeError('varint longer than 10 bytes (record length)', pos);
  return null;
}

export function readPbGz(path: string): AsyncGenerator<NostrEvent> {
  return readPbStream(createReadStream(path, { highWaterMark: 1 << 20 }), path);
}

/** The events of a day file's bytes from any stream (`nostr cat -` reads stdin); `path` names it in errors. */
export async function* readPbStream(input: Readable, path: string): AsyncGenerator<NostrEvent> {
  let carry: Uint8Array = new Uint8Array(0);
  let base = 0;
  const gunzip = pipeline(input, createGunzip({ chunkSize: 1 << 20 }), () => {});
  try {
    for await (const data of gunzip as AsyncIterable<Buffer>) {
      const buf = carry.length ? Buffer.concat([carry, data]) : data;
      let pos = 0;
      for (let r = recordAt(buf, pos); r; r = recordAt(buf, pos)) {
        yield decodeEvent(new Reader(buf, r.start, r.end));
        pos = r.end;
      }
      base += pos;
      carry = buf.subarray(pos);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ThreadmillError('INPUT_NOT_FOUND', `input not found: ${path}`);
    if (code === 'EACCES' || code === 'EISDIR' || code === 'EPERM') throw new ThreadmillError('INPUT_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`);
    if (err instanceof ProtoDecodeError) throw new ThreadmillError('PB_CORRUPT', `${path}: corrupt event at decompressed byte ${base + err.offset}: ${err.message}`);
    throw new ThreadmillError('PB_CORRUPT', `${path}: ${(err as Error).message}`);
  }
  if (carry.length > 0) throw new ThreadmillError('PB_CORRUPT', `${path}: truncated record at decompressed byte ${base} (${carry.length} bytes left over)`);
}

/** NIP-01 key order, so `cat` output looks like the events people know. */
export function eventToJson(ev: NostrEvent): string {
  return JSON.stringify({ id: ev.id, pubkey: ev.pubkey, created_at: ev.created_at, kind: ev.kind, tags: ev.tags, content: ev.content, sig: ev.sig });
}
