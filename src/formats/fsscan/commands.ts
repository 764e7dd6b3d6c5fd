/** The `threadmill fsscan` command group: file-system scan logs → a SQLite database fs-scans can query. */
import type { Command } from 'commander';

export function registerFsscanCommands(program: Command): void {
  program.command('fsscan').description('file-system scan logs (GPFS LIST, Lustre lfs find, GNU find) → SQLite, queries, histograms');
}
