/**
 * CPU seconds per thread role (main, workers, index writer, …), read from Linux's per-thread
 * /proc counters. The DESIGN asks for "CPU per record per thread role" so that the scaling cap of a
 * serial role can be computed; `process.cpuUsage()` only gives the whole process, and Node does
 * not name its worker threads, so each thread names itself (`nameThisThread`) and a sampler keeps
 * the last value seen of every named thread (threads that ended are kept at their last sample).
 *
 * Off unless THREADMILL_CPU_REPORT names a file: then the report is written there at exit as JSON
 * (`{ roles: { main, worker, index, … , other }, total }`, seconds). Benchmarks set it.
 */
import { readdirSync, readFileSync, writeFileSync, readlinkSync } from 'node:fs';

export const CPU_REPORT_ENV = 'THREADMILL_CPU_REPORT';
const TICKS = 100; // USER_HZ on Linux
const PREFIX = 'tm-';

/** Names the calling thread `tm-<role>` (15 bytes at most) so the sampler can attribute its CPU. */
export function nameThisThread(role: string): void {
  if (process.env[CPU_REPORT_ENV] === undefined) return;
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    writeFileSync(`/proc/self/task/${tid}/comm`, `${PREFIX}${role}`.slice(0, 15));
  } catch { /* not Linux: no report */ }
}

function cpuOf(stat: string): number {
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

const last = new Map<string, { role: string; cpu: number }>();

/** Reads every thread's counters once; called by a timer and before threads are stopped. */
export function sampleThreads(): void {
  if (process.env[CPU_REPORT_ENV] === undefined) return;
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const role = tid === String(process.pid) ? 'main' : comm.startsWith(PREFIX) ? comm.slice(PREFIX.length) : 'other';
      last.set(tid, { role, cpu: cpuOf(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')) });
    } catch { /* the thread ended between readdir and read */ }
  }
}

/** Starts sampling (every second; threads are also sampled before they stop) and writes the report at exit, when THREADMILL_CPU_REPORT is set. */
export function startCpuReport(): void {
  const path = process.env[CPU_REPORT_ENV];
  if (path === undefined) return;
  // Each sample reads two /proc files per thread on the main thread: every 100 ms it showed up as
  // ~1 µs per event of main-thread time on a 200 s run.
  const timer = setInterval(sampleThreads, 1000);
  timer.unref();
  process.once('exit', () => {
    sampleThreads();
    const roles: Record<string, number> = {};
    for (const { role, cpu } of last.values()) roles[role] = (roles[role] ?? 0) + cpu;
    const u = process.cpuUsage();
    const total = (u.user + u.system) / 1e6;
    const named = Object.entries(roles).filter(([r]) => r !== 'other').reduce((n, [, c]) => n + c, 0);
    // Threads that ended between samples are counted in `total` only: `other` takes the rest.
    roles.other = Math.max(0, total - named);
    writeFileSync(path, JSON.stringify({ roles, total }));
  });
}
