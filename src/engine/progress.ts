/**
 * One progress model (bytes done / total, records, rate, ETA) with three renderers: a bar on a
 * terminal (status-line.ts), newline-delimited JSON (`--progress=json`), or nothing (`--quiet`).
 * Updated by the main thread once per chunk, never per record.
 */
import { StatusLine } from './status-line.js';

export type ProgressMode = 'auto' | 'bar' | 'json' | 'none';

export interface ProgressSnapshot {
  bytesDone: number;
  bytesTotal: number | null;
  records: number;
  seconds: number;
  bytesPerSecond: number;
  recordsPerSecond: number;
  etaSeconds: number | null;
  /** What the run is doing now, when it is past reading (e.g. an end-of-run step); '' while reading. */
  phase: string;
}

export interface Progress {
  advance(bytes: number, records: number): void;
  setTotal(bytes: number | null): void;
  finish(): void;
  /** Names the step under way (DESIGN: a serial end-of-run step is shown in the progress output). */
  phase?(name: string): void;
}

export class ProgressModel implements Progress {
  private bytesDone = 0;
  private records = 0;
  private total: number | null = null;
  private readonly started = performance.now();
  private current = '';

  constructor(private readonly render: (s: ProgressSnapshot, final: boolean) => void = () => {}) {}

  setTotal(bytes: number | null): void {
    this.total = bytes;
  }

  advance(bytes: number, records: number): void {
    this.bytesDone += bytes;
    this.records += records;
    this.render(this.snapshot(), false);
  }

  finish(): void {
    this.render(this.snapshot(), true);
  }

  phase(name: string): void {
    this.current = name;
    this.render(this.snapshot(), false);
  }

  snapshot(): ProgressSnapshot {
    const seconds = (performance.now() - this.started) / 1000;
    const bps = seconds > 0 ? this.bytesDone / seconds : 0;
    const eta = this.total !== null && bps > 0 ? Math.max(0, (this.total - this.bytesDone) / bps) : null;
    return { bytesDone: this.bytesDone, bytesTotal: this.total, records: this.records, seconds, bytesPerSecond: bps, recordsPerSecond: seconds > 0 ? this.records / seconds : 0, etaSeconds: eta, phase: this.current };
  }
}

/** Renders at most every `everyMs` (and always at the end) so a fast run is not slowed by output. */
function throttled(everyMs: number, draw: (s: ProgressSnapshot, final: boolean) => void): (s: ProgressSnapshot, final: boolean) => void {
  let last = -Infinity;
  let lastPhase = '';
  return (s, final) => {
    const now = performance.now();
    // A new phase is always shown: an end-of-run step can start within the throttle window.
    if (!final && now - last < everyMs && s.phase === lastPhase) return;
    last = now;
    lastPhase = s.phase;
    draw(s, final);
  };
}

function jsonRenderer(stream: NodeJS.WritableStream): (s: ProgressSnapshot, final: boolean) => void {
  return throttled(500, (s, final) => {
    stream.write(`${JSON.stringify({ type: 'progress', final, ...s, seconds: round(s.seconds), bytesPerSecond: Math.round(s.bytesPerSecond), recordsPerSecond: Math.round(s.recordsPerSecond), etaSeconds: s.etaSeconds === null ? null : round(s.etaSeconds) })}\n`);
  });
}

function barRenderer(label: string): (s: ProgressSnapshot, final: boolean) => void {
  const line = new StatusLine(process.stderr);
  return throttled(100, (s, final) => {
    line.update(barText(label, s, final, line.width));
    if (final) line.finish();
  });
}

/**
 * `label [#####-----] 45% | 12.3 MB | 1,234 records | 4.5 MB/s | ETA 15s | phase`, fitted to `width`:
 * the bar takes what the figures leave (at most 40), and goes when under 10 columns remain.
 */
export function barText(label: string, s: ProgressSnapshot, final: boolean, width: number): string {
  const total = s.bytesTotal;
  const fraction = final ? 1 : total ? Math.min(1, s.bytesDone / total) : null;
  const figures = [
    fraction === null ? null : `${Math.floor(fraction * 100)}%`,
    formatBytes(s.bytesDone),
    `${s.records.toLocaleString('en-US')} records`,
    `${formatBytes(s.bytesPerSecond)}/s`,
    final ? `${s.seconds.toFixed(1)}s` : s.etaSeconds === null ? null : `ETA ${formatDuration(s.etaSeconds)}`,
    s.phase || null,
  ].filter((x): x is string => x !== null).join(' | ');
  const room = width - label.length - figures.length - 4;
  if (fraction === null || room < 10) return `${label} ${figures}`;
  const size = Math.min(40, room);
  const filled = Math.round(fraction * size);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(size - filled)}] ${figures}`;
}

function formatDuration(seconds: number): string {
  const t = Math.round(seconds);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export function createProgress(mode: ProgressMode, label: string): ProgressModel {
  const effective = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'none') : mode;
  if (effective === 'json') return new ProgressModel(jsonRenderer(process.stderr));
  if (effective === 'bar') return new ProgressModel(barRenderer(label));
  return new ProgressModel();
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${n.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
