#!/usr/bin/env node
/** The `threadmill` command: one sub-command group per format. Data on stdout, messages on stderr. */
import { Command, CommanderError } from 'commander';
import { startCpuReport } from './engine/thread-cpu.js';
import { jsonProgressAsked, jsonStderr } from './cli/json-stderr.js';
import { threadmillVersion } from './engine/version.js';
import { registerFormat } from './cli/register.js';
import { catchEarlySignals } from './cli/common.js';
import { faultPoint } from './engine/fault-points.js';
import type { FormatSpec } from './cli/command-spec.js';

catchEarlySignals();
// THREADMILL_FAULT=stop-at-start:1: a test interrupts the run while its modules load.
faultPoint('start');
startCpuReport();
if (jsonProgressAsked(process.argv)) jsonStderr();

const program = new Command('threadmill')
  .description('turn very large record files into useful outputs using every core')
  .version(threadmillVersion())
  .showHelpAfterError('(add --help for usage)')
  // Commander's parse errors read like every other error: `threadmill: error [USAGE]: …`, exit 2.
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'threadmill: error [USAGE]: ')) })
  .exitOverride();

/**
 * Each format's commands, loaded only when asked for: loading them all (better-sqlite3,
 * bcrypto, parquet-wasm, apache-arrow) took ~0.4 s of every run's start-up on this machine.
 * Help, a bare `threadmill` and unknown commands load them all, so commander lists every group.
 */
const specOf = (format: FormatSpec) => (p: Command): void => void registerFormat(p, format);
const groups: Record<string, () => Promise<(p: Command) => void>> = {
  nostr: async () => specOf((await import('./formats/nostr/commands.js')).nostrFormat),
  fastq: async () => specOf((await import('./formats/fastq/commands.js')).fastqFormat),
  bam: async () => specOf((await import('./formats/bam/cli.js')).bamFormat),
  fsscan: async () => specOf((await import('./formats/fsscan/commands.js')).fsscanFormat),
  code: async () => specOf((await import('./formats/code/commands.js')).codeFormat),
};
const asked = process.argv[2];
for (const name of asked !== undefined && asked in groups ? [asked] : Object.keys(groups)) (await groups[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version end with exitCode 0; every other parse error is a usage error: exit 2.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    throw err;
  }
}
