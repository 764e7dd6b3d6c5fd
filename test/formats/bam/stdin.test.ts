/**
 * BAM on stdin behaves like the same bytes in a file (issue 8): the same error codes and
 * compressed offsets, --allow-truncated keeps the same records, and messages name the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockOffsets, blockSizeAt } from '../../../src/engine/bgzf.js';
import { tempDir } from './helpers.js';
import { bamHeader, bamRecord, bgzf, lcg } from './raw.js';

const entry = fileURLToPath(new URL('./cli-entry.js', import.meta.url));

interface Run { status: number | null; stderr: string }

/** `bam convert` of `path`, given as a file or on stdin; -j 2, 64 KiB chunks. */
function convert(path: string, how: 'file' | 'stdin', out: string, extra: string[] = []): Run {
  const fd = how === 'stdin' ? openSync(path, 'r') : 'ignore';
  try {
    const args = [entry, 'bam', 'convert', how === 'stdin' ? '-' : path, '-o', out, '-j', '2', '--quiet', ...extra];
    const r = spawnSync(process.execPath, args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

let made: { dir: string; bytes: Buffer; blocks: number[] } | null = null;
function bam(): { dir: string; bytes: Buffer; blocks: number[] } {
  if (!made) {
    const rnd = lcg(5);
    const records: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = 100 + rnd(60);
      const seq = Uint8Array.from({ length: n }, () => [1, 2, 4, 8][rnd(4)]!);
      const qual = Uint8Array.from({ length: n }, () => rnd(42));
      records.push(bamRecord({ name: `q${i}`, refId: 0, pos: rnd(5000), flag: 0, cigar: [[n, 0]], seq, qual }));
    }
    const bytes = bgzf(Buffer.concat([bamHeader([['chr1', 10_000]]), ...records]));
    made = { dir: tempDir(), bytes, blocks: blockOffsets(bytes, 0, bytes.length, 0) };
  }
  return made;
}

const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function errorLine(r: Run): { code: string; message: string } {
  const m = /threadmill: error \[(\w+)\]: (.*)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { code: m[1]!, message: m[2]! };
}

test('stdin: a file cut inside a block fails as the file does, and --allow-truncated keeps the same records', () => {
  const { dir, bytes, blocks } = bam();
  const cutAt = blocks[4]!;
  const path = join(dir, 'cut.bam');
  writeFileSync(path, bytes.subarray(0, cutAt + 500));
  const results = (['file', 'stdin'] as const).map((how) => {
    const r = convert(path, how, join(dir, `cut-${how}.arrow`));
    assert.equal(r.status, 1, r.stderr);
    return errorLine(r);
  });
  assert.deepEqual(results.map((r) => r.code), ['BGZF_TRUNCATED', 'BGZF_TRUNCATED']);
  for (const [i, name] of [path, '-'].entries()) assert.match(results[i]!.message, new RegExp(`^${escaped(name)}[ :].*compressed offset ${cutAt}\\b`));
  const outs = (['file', 'stdin'] as const).map((how) => {
    const out = join(dir, `kept-${how}.arrow`);
    const r = convert(path, how, out, ['--allow-truncated']);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(out);
  });
  assert.ok(outs[0]!.equals(outs[1]!), 'file and stdin keep the same records');
});

test('stdin: bad deflate data in block 0 is BGZF_CORRUPT at offset 0, and a bad CRC names the same block as for the file', () => {
  const { dir, bytes, blocks } = bam();
  const zero = Buffer.from(bytes);
  zero.fill(0xff, 20, 60);
  const crc = Buffer.from(bytes);
  crc[blocks[3]! + blockSizeAt(bytes, blocks[3]!) - 8]! ^= 0x5a;
  for (const [name, data, at] of [['zero', zero, 0], ['crc', crc, blocks[3]!]] as const) {
    const path = join(dir, `${name}.bam`);
    writeFileSync(path, data);
    for (const how of ['file', 'stdin'] as const) {
      const out = join(dir, `${name}-${how}.arrow`);
      const r = convert(path, how, out);
      assert.equal(r.status, 1, r.stderr);
      const e = errorLine(r);
      assert.equal(e.code, 'BGZF_CORRUPT', `${name} ${how}: ${e.message}`);
      assert.match(e.message, new RegExp(`^${escaped(how === 'file' ? path : '-')}: .*compressed offset ${at}\\b`), `${name} ${how}`);
      assert.ok(!existsSync(out));
    }
  }
});
