/** Placeholder replaced by the progress model; see below. */
export interface Progress {
  /** Adds done bytes / records (main thread, in chunk order). */
  advance(bytes: number, records: number): void;
  /** Sets the total when it becomes known (seekable inputs). */
  setTotal(bytes: number): void;
  finish(): void;
}
