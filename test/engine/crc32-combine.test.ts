import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { crc32Combine } from '../../src/engine/crc32-combine.js';

test('crc32Combine(crc(A), crc(B), |B|) equals crc(A‖B) for many splits and lengths', () => {
  for (const total of [1, 2, 31, 4096, 100_000, 1_048_577]) {
    const data = randomBytes(total);
    for (const cut of [0, 1, Math.floor(total / 3), total - 1, total]) {
      if (cut < 0 || cut > total) continue;
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(data), `total ${total} cut ${cut}`);
    }
  }
});
