import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { firstInvalidUtf8 } from '../../../src/formats/nostr/utf8.js';

test('firstInvalidUtf8 agrees with node:buffer isUtf8 and with the decoder on where the text stops being UTF-8', () => {
  const cases: [number[], number][] = [
    [[0x61, 0xff, 0x62], 1], // a byte that never occurs in UTF-8
    [[0xc0, 0x80], 0], // overlong NUL
    [[0xe0, 0x80, 0x80], 0], // overlong 3-byte form
    [[0xed, 0xa0, 0x80], 0], // an encoded UTF-16 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x61, 0xe2, 0x82], 1], // cut inside a sequence
    [[0xf0, 0x9f, 0xa6, 0xa9, 0x80], 4], // a lone continuation byte after a valid emoji
    [[...Buffer.from('ünïcode 🦩 日本')], -1],
  ];
  for (const [bytes, at] of cases) assert.equal(firstInvalidUtf8(Uint8Array.from(bytes), 0, bytes.length), at, Buffer.from(bytes).toString('hex'));
  // Random bytes biased towards UTF-8 lead and continuation bytes: the walk must say "valid"
  // exactly when isUtf8 does, and the prefix before the reported byte must itself be valid.
  let x = 12345;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  const pool = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x8f, 0x90];
  for (let n = 0; n < 20000; n++) {
    const bytes = Uint8Array.from({ length: 1 + (next() % 8) }, () => pool[next() % pool.length]!);
    const at = firstInvalidUtf8(bytes, 0, bytes.length);
    assert.equal(at === -1, isUtf8(bytes), Buffer.from(bytes).toString('hex'));
    if (at >= 0) assert.ok(isUtf8(bytes.subarray(0, at)), Buffer.from(bytes).toString('hex'));
  }
});
