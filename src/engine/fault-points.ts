/**
 * Named fault points for crash tests: with THREADMILL_FAULT=`kill-at-<point>:<n>` the process
 * SIGKILLs itself the n-th time it passes `<point>` (e.g. `kill-at-spill:2`, `kill-at-day:3`), so a
 * test can prove that a run killed at that step leaves its outputs as they were. Points: `rename`
 * (each rename of a commit, atomic.ts), `spill` and `day` (nostr convert).
 */
export const FAULT_ENV = 'THREADMILL_FAULT';
const passes = new Map<string, number>();

export function faultPoint(point: string): void {
  const spec = process.env[FAULT_ENV];
  if (spec === undefined || !spec.startsWith(`kill-at-${point}:`)) return;
  const n = (passes.get(point) ?? 0) + 1;
  passes.set(point, n);
  if (n === Number(spec.slice(`kill-at-${point}:`.length))) process.kill(process.pid, 'SIGKILL');
}
