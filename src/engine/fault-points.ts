/**
 * Named fault points for crash tests: with THREADMILL_FAULT=`kill-at-<point>:<n>` the process
 * SIGKILLs itself the n-th time it passes `<point>` (e.g. `kill-at-spill:2`, `kill-at-day:3`), so a
 * test can prove that a run killed at that step leaves its outputs as they were; with
 * `stop-at-<point>:<n>` it SIGSTOPs itself there, so a test can change the world (cut an input
 * short) before it sends SIGCONT. Points: `rename` (each rename of a commit, atomic.ts), `spill`
 * and `day` (nostr convert), `chunk` (each chunk's result taken in order on the main thread, every
 * long command), `start` (the CLI, before it loads a format's modules), `read` (each chunk a worker reads of a file, range-reader.ts, and
 * each piece the main thread reads of a stream, source.ts; each thread counts its own passes, so
 * use -j 1).
 */
export const FAULT_ENV = 'THREADMILL_FAULT';
const passes = new Map<string, number>();

export function faultPoint(point: string): void {
  const spec = process.env[FAULT_ENV];
  if (spec === undefined) return;
  const m = /^(kill|stop)-at-([a-z]+):(\d+)$/.exec(spec);
  if (!m || m[2] !== point) return;
  const n = (passes.get(point) ?? 0) + 1;
  passes.set(point, n);
  if (n === Number(m[3])) process.kill(process.pid, m[1] === 'kill' ? 'SIGKILL' : 'SIGSTOP');
}
