#!/usr/bin/env node
/** The `threadmill` command: one sub-command group per format. Data on stdout, messages on stderr. */
import { Command, CommanderError } from 'commander';
import { registerNostrCommands } from './formats/nostr/commands.js';
import { registerFastqCommands } from './formats/fastq/commands.js';
import { registerBamCommands } from './formats/bam/cli.js';

const program = new Command('threadmill')
  .description('turn very large record files into useful outputs using every core')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

registerNostrCommands(program);
registerFastqCommands(program);
registerBamCommands(program);

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
