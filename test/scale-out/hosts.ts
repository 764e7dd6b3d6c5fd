/**
 * "Hosts" for tests of many machines sharing one file system: each is a new pid namespace (and,
 * by default, a UTS namespace with its own host name) made by `unshare --pid --uts --fork
 * --mount-proc`, so its processes have pids that mean nothing to the others', as on another node
 * or in a Kubernetes pod. They share this machine's file system, as nodes share NFS or Lustre.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../helpers/faults.js';

const NS_FLAGS = ['--pid', '--fork', '--mount-proc'];

/** False when namespaces can be made here; otherwise why not (the tests skip with it). */
export function hostsUnavailable(): string | false {
  const r = spawnSync('unshare', [...NS_FLAGS, '--uts', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `unshare not found (${r.error.message}); util-linux provides it`;
  return r.status === 0 ? false : `unshare --pid --uts is not permitted here (${r.stderr.trim() || `exit ${r.status}`}): run as root or where user namespaces are allowed`;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface HostRun { status: number | null; stdout: string; stderr: string }

export interface HostOptions {
  /** Host name inside the namespace; null keeps this machine's (a pid namespace only, as a second container on one node). */
  name: string | null;
  env?: NodeJS.ProcessEnv;
  /** Processes to start (and leave running) before the commands, so the commands' pids differ from another host's. */
  pidOffset?: number;
}

/**
 * Runs `threadmill` command lines concurrently on one "host"; resolves when all have ended, with
 * each one's status and output (files in `scratch`, named by `label`).
 */
export function runOnHost(host: HostOptions, commands: string[][], scratch: string, label: string): Promise<HostRun[]> {
  const lines = [
    'set -u',
    host.name ? `hostname ${quote(host.name)}` : '',
    // Short-lived processes move this namespace's pid counter on.
    ...Array.from({ length: host.pidOffset ?? 0 }, () => 'true'),
    ...commands.map((args, k) => {
      const base = join(scratch, `${label}-${k}`);
      return `( ${[process.execPath, cliPath, ...args].map(quote).join(' ')} >${quote(`${base}.out`)} 2>${quote(`${base}.err`)}; echo $? >${quote(`${base}.rc`)} ) &`;
    }),
    'wait',
  ];
  const flags = host.name ? [...NS_FLAGS, '--uts'] : NS_FLAGS;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', [...flags, 'bash', '-c', lines.filter(Boolean).join('\n')], { env: host.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', () => {
      resolve(commands.map((_, k) => {
        const base = join(scratch, `${label}-${k}`);
        const read = (ext: string): string => {
          try {
            return readFileSync(`${base}.${ext}`, 'utf8');
          } catch {
            return '';
          }
        };
        const rc = read('rc').trim();
        return { status: rc === '' ? null : Number(rc), stdout: read('out'), stderr: read('err') };
      }));
    });
  });
}

/**
 * Starts a process on a "host" that locks `dir` (lockDirectory) and holds it until release();
 * resolves once the lock is taken.
 */
export function holdLockOnHost(host: HostOptions, dir: string): Promise<{ release(): Promise<void> }> {
  const lockModule = new URL('../../src/engine/lock.js', import.meta.url).href;
  const script = `import { lockDirectory } from ${JSON.stringify(lockModule)};
    lockDirectory(${JSON.stringify(dir)});
    process.stdout.write('locked\\n');
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const lines = [host.name ? `hostname ${quote(host.name)}` : '', ...Array.from({ length: host.pidOffset ?? 0 }, () => 'true'),
    // Not exec'd: as pid 1 it would be "alive" on every host; as a child its pid is arbitrary.
    `${quote(process.execPath)} --input-type=module -e ${quote(script)}`, 'exit $?'];
  const flags = host.name ? [...NS_FLAGS, '--uts'] : NS_FLAGS;
  const child = spawn('unshare', [...flags, 'bash', '-c', lines.filter(Boolean).join('\n')], { env: host.env ?? process.env, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`the lock holder exited early (${code})`)));
    child.stdout.once('data', () => {
      child.removeAllListeners('close');
      resolve({
        release: () => new Promise((done) => {
          child.on('close', () => done());
          child.stdin.end();
        }),
      });
    });
  });
}
