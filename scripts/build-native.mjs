#!/usr/bin/env node
// Builds the optional native inflate (native/deflate.c, libdeflate) at install time. It needs a C
// compiler and libdeflate's headers (Debian: apt-get install libdeflate-dev); without them the
// install still succeeds and threadmill inflates BGZF with node:zlib (slower, same results).
import { spawnSync } from 'node:child_process';

const r = spawnSync('node-gyp', ['rebuild'], { stdio: ['ignore', 'ignore', 'pipe'], shell: true, encoding: 'utf8' });
if (r.status === 0) {
  console.error('threadmill: built the native deflate/inflate (libdeflate)');
} else {
  const why = (r.stderr ?? '').split('\n').find((l) => /error|not found/i.test(l)) ?? `node-gyp exited with ${r.status}`;
  console.error(`threadmill: native deflate/inflate not built (${why.trim()}); node:zlib is used instead (slower, same results). Install a C compiler, libdeflate-dev and zlib1g-dev, then run npm run build:native.`);
}
