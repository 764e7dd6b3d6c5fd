/**
 * Tables that fit the terminal (issue 19: `fsscan query` printed 240 columns). Columns are left out
 * in the given order until the table fits, then the first column (a path) is shortened from the
 * left, where paths share their prefix, keeping the end that tells directories apart.
 */

/** The terminal's width when stdout is one (`COLUMNS` when set, as `ls` does), otherwise no limit. */
export function tableWidth(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isSafeInteger(env) && env > 0) return env;
  return process.stdout.isTTY ? process.stdout.columns || 80 : Infinity;
}

const GAP = 2;

function widthOf(cells: readonly string[][], keep: readonly number[]): number {
  return keep.reduce((w, i) => w + Math.max(...cells.map((r) => r[i]!.length)), 0) + GAP * (keep.length - 1);
}

/** Aligned lines (first column left-aligned, the rest right-aligned) no wider than `width` where it can be done. */
export function fitTable(cells: readonly string[][], width: number, dropOrder: readonly number[]): string[] {
  let keep = cells[0]!.map((_, i) => i);
  for (const drop of dropOrder) {
    if (widthOf(cells, keep) <= width) break;
    keep = keep.filter((i) => i !== drop);
  }
  let rows = cells.map((r) => keep.map((i) => r[i]!));
  const over = widthOf(rows, rows[0]!.map((_, i) => i)) - width;
  if (over > 0) {
    const firstWidth = Math.max(...rows.map((r) => r[0]!.length));
    const room = Math.max(12, firstWidth - over);
    rows = rows.map(([first, ...rest]) => [first!.length > room ? `…${first!.slice(first!.length - room + 1)}` : first!, ...rest]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' '.repeat(GAP)).trimEnd());
}
