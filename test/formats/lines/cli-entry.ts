/** A `threadmill` with only the test-only `lines` format. */
import { Command } from 'commander';
import { registerFormat } from '../../../src/cli/register.js';
import { jsonProgressAsked, jsonStderr } from '../../../src/cli/json-stderr.js';
import { linesFormat } from './format.js';

if (jsonProgressAsked(process.argv)) jsonStderr();

const program = new Command('threadmill').exitOverride();
registerFormat(program, linesFormat);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
}
