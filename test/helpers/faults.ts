/**
 * Fault injection for tests of any pipeline: a run killed (-9) in the middle of its commit, a
 * reader that closes stdout early, a directory locked by another live process, a dead pid.
 * Pipelines inherit the faults through the engine (OutputTransaction honours THREADMILL_FAULT),
 * so a new pipeline's tests only pick the command line.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FAULT_ENV } from '../../src/engine/fault-points.js';

/** The built `threadmill` CLI (dist/src/cli.js). */
export const cliPath = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const lockModule = new URL('../../src/engine/lock.js', import.meta.url).href;

/** The environment variable the engine's fault points read (src/engine/fault-points.ts). */
export { FAULT_ENV };

/** Environment that makes the run SIGKILL itself just before its n-th rename into place (1-based). */
export function killAtRename(n: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, [FAULT_ENV]: `kill-at-rename:${n}` };
}

/** Runs `threadmill args` with `env`; returns its status, signal and output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env: options.env ?? process.env, input: options.input, maxBuffer: 1 << 28 });
}

/** What a CLI run printed and how it ended. */
export interface CliRun { status: number | null; stdout: string; stderr: string }

/** Runs `threadmill args` without blocking the event loop (tests that run several at once). */
export function runCliAsync(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; nodeArgs?: string[]; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath, ...args], { env: options.env ?? process.env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs `threadmill args` in a shell pipeline whose reader closes early (`| head -c 1`, on the given
 * stream: 'stdout', or 'stderr' via 2>&1 with stdout discarded), the way `threadmill … | head -1`
 * does. Returns threadmill's own exit status and everything it wrote to the other stream.
 */
export function runWithClosedReader(args: string[], stream: 'stdout' | 'stderr' = 'stdout', env: NodeJS.ProcessEnv = process.env): { status: number; otherStream: string } {
  const quoted = [process.execPath, cliPath, ...args].map(shellQuote).join(' ');
  // PIPESTATUS[0] is threadmill's status; sleep keeps `head` from closing before the run writes.
  const script = stream === 'stdout'
    ? `${quoted} 2>"$ERRFILE" | head -c 1 >/dev/null; echo "$\{PIPESTATUS[0]}"; cat "$ERRFILE" >&2`
    : `{ ${quoted} 2>&1 >/dev/null; } | head -c 1 >/dev/null; echo "$\{PIPESTATUS[0]}"`;
  const errFile = `${process.env.TMPDIR ?? '/tmp'}/tm-fault-err-${process.pid}-${++counter}`;
  const r = spawnSync('bash', ['-c', `${script}; rm -f "$ERRFILE"`], { encoding: 'utf8', env: { ...env, ERRFILE: errFile }, maxBuffer: 1 << 26 });
  return { status: Number(r.stdout.trim()), otherStream: r.stderr };
}
let counter = 0;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A pid that belonged to a process that has exited (for stale locks and temporaries). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** A lock on `dir` (lockDirectory) held by another live process until release() is awaited. */
export async function holdLock(dir: string): Promise<{ pid: number; release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { lockDirectory } from ${JSON.stringify(lockModule)};
     lockDirectory(${JSON.stringify(dir)});
     process.stdout.write('locked\\n');
     process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code} before locking ${dir}`)));
  });
  return {
    pid: child.pid ?? -1,
    release: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    }),
  };
}
