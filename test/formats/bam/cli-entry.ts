/** A `threadmill` with only the bam commands, so the BAM CLI tests do not depend on src/cli.ts. */
import { Command } from 'commander';
import { bamFormat } from '../../../src/formats/bam/cli.js';
import { registerFormat } from '../../../src/cli/register.js';

const program = new Command('threadmill').exitOverride();
registerFormat(program, bamFormat);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
}
