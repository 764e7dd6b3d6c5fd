/**
 * The progress bar in a real terminal (issue 19): under tmux, a bar that fits the window and
 * follows a resize, and after Ctrl-C or SIGTERM a message on a line of its own and line wrapping
 * still on. Skips with a message where tmux is absent (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../helpers/faults.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const skip = hasTmux ? false : 'tmux is not installed (apt-get install tmux); the terminal test needs a real terminal';
const root = mkdtempSync(join(tmpdir(), 'tm-terminal-'));
const socket = `tm19-${process.pid}`;
const fastq = join(root, 'c.fq');
writeFileSync(fastq, Array.from({ length: 5000 }, (_, i) => `@r${i}\n${'ACGT'.repeat(12)}\n+\n${'I'.repeat(48)}\n`).join(''));

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const screen = (): string[] => tmux('capture-pane', '-p', '-t', 'w').split('\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: (lines: string[]) => boolean): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const lines = screen();
    if (ok(lines)) return lines;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${screen().join('\n')}`);
}

/** A never-ending stream on stdin: the bar stays up until the run is stopped. */
const endless = `(while cat '${fastq}'; do sleep 0.05; done)`;
const barLine = (lines: string[]): string | undefined => lines.find((l) => l.startsWith('fastq stats - ') && l.includes('records'));

async function assertCleanEnd(code: string): Promise<void> {
  const lines = await waitFor(`the ${code} message`, (ls) => ls.some((l) => l.includes(`[${code}]`)));
  const message = lines.find((l) => l.includes(`[${code}]`));
  assert.ok(message, lines.join('\n'));
  assert.match(message, /^(\^C)?threadmill: error \[/, 'the message starts its own line');
  tmux('send-keys', '-t', 'w', "printf '%0150d\\n' 0", 'Enter');
  const after = await waitFor('the long line', (ls) => ls.join('').split('0').length - 1 >= 150);
  assert.equal(tmux('display', '-p', '-t', 'w', '#{wrap_flag}').trim(), '1', 'line wrapping is on');
  assert.ok(after.some((l) => /^0{80}$/.test(l)) && after.some((l) => /^0{70}$/.test(l)), `a 150-column line wraps at 80:\n${after.join('\n')}`);
}

test('the bar fits the window, follows a resize, and Ctrl-C or SIGTERM leave the terminal as it was', { skip, timeout: 90_000 }, async () => {
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', '-s', 'w', 'bash --norc --noprofile');
  try {
    tmux('send-keys', '-t', 'w', `clear; ${endless} | '${process.execPath}' '${cliPath}' fastq stats - --progress bar -j 1`, 'Enter');
    let lines = await waitFor('the bar', (ls) => barLine(ls) !== undefined);
    assert.ok(barLine(lines)!.length <= 79, `the bar fits 80 columns: ${barLine(lines)}`);
    tmux('resize-window', '-t', 'w', '-x', '50', '-y', '24');
    lines = await waitFor('the bar at 50 columns', (ls) => ls.some((l) => l.startsWith('fastq stats - ') && l.length <= 49 && l.length > 30));
    tmux('resize-window', '-t', 'w', '-x', '80', '-y', '24');
    await sleep(300);
    tmux('send-keys', '-t', 'w', 'C-c');
    await assertCleanEnd('INTERRUPTED');

    tmux('send-keys', '-t', 'w', `clear; ${endless} | timeout --foreground -s TERM 3 '${process.execPath}' '${cliPath}' fastq stats - --progress bar -j 1`, 'Enter');
    await waitFor('the bar', (ls) => barLine(ls) !== undefined);
    await assertCleanEnd('INTERRUPTED');
    const text = screen().join('\n');
    assert.match(text, /interrupted by SIGTERM/);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
});
