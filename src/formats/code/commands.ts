/** The `threadmill code` command group: a folder of source code → a code graph, queries and a server. */
import type { Command } from 'commander';

export function registerCodeCommands(program: Command): void {
  program.command('code').description('a folder of source code → a code graph with resolved calls (SQLite or PostgreSQL), queries, an HTTP server');
}
