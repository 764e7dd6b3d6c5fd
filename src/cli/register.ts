/**
 * A format's commands on the command line, from its FormatSpec: every long command gets the common
 * flags, --shard and its output option; the group gets a generated `merge`. What is printed, and
 * where, is decided here once (data on stdout, messages on stderr, --json, --quiet, --progress json).
 */
import type { Command } from 'commander';
import { action, addRunOptions, formatTable, interruptSignal, moreErrorsNote, printRecordError, warner, whereTheRestGo, type RunFlags } from './common.js';
import { describeError } from '../engine/error-log.js';
import { mergeParts, runShard, runWhole, type RunHooks } from './runner.js';
import type { CommandSpec, CommonFlags, FormatSpec, Report } from './command-spec.js';

const SHARD_HELP = 'do only share I of N (0-based) and write a part (-o names it; {I} and {N} in it are replaced) for `merge`; auto/N takes I from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX';
const PARTIAL_HELP = 'merge consecutive shards into a merged part at -o (or --db), for a later merge that takes merged parts like shards\' parts (merges of merges)';

type AnySpec = CommandSpec<Record<string, unknown>, unknown, unknown>;
type Flags = Record<string, unknown> & CommonFlags;

function hooksFor(flags: RunFlags, spec?: AnySpec): RunHooks {
  if (spec?.recordErrors !== 'warnings') return { onRecordError: printRecordError(flags), onMoreErrors: moreErrorsNote(flags), warn: warner(flags) };
  const warn = warner(flags);
  return { onRecordError: (e) => warn(describeError(e)), onMoreErrors: () => warn(`further ones are ${whereTheRestGo(flags)}`), warn };
}

/**
 * A report, the same way for every command: --json puts `summary` on stdout, else the command's
 * data (if any) goes there; on stderr, unless --quiet, the `{"type":"summary"}` line under
 * --progress json, else the titled table (not with --json), then the note.
 */
export function showReport(report: Report, flags: Pick<Flags, 'json' | 'quiet' | 'progress'>): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(report.summary)}\n`);
  else if (report.stdout !== undefined) process.stdout.write(report.stdout);
  if (flags.quiet) return;
  if (flags.progress === 'json') {
    process.stderr.write(`${JSON.stringify({ type: 'summary', ...(report.summary as object) })}\n`);
    return;
  }
  if (!flags.json && report.rows) process.stderr.write(`${report.title ? `${report.title}\n` : ''}${formatTable(report.rows())}\n`);
  if (report.note) process.stderr.write(`${report.note}\n`);
}

function registerLong(group: Command, format: string, spec: AnySpec): void {
  const arg = spec.inputs.many ? `<${spec.inputs.name}...>` : `<${spec.inputs.name}>`;
  const cmd = addRunOptions(group.command(spec.name).description(spec.description).argument(arg, spec.inputs.help));
  spec.options?.(cmd);
  spec.reportOptions?.(cmd);
  if (spec.output) cmd[spec.output.required ? 'requiredOption' : 'option'](spec.output.flags, spec.output.help, spec.output.default);
  else if (spec.shard) cmd.option('-o, --output <part>', 'with --shard: the part directory to write');
  if (spec.shard) cmd.option('--shard <I/N>', spec.output?.flags.startsWith('--db') ? `${SHARD_HELP} (here --db names the part)` : SHARD_HELP);
  cmd.action(action(async (given: string | string[], flags: Flags) => {
    const inputs = Array.isArray(given) ? given : [given];
    const signal = interruptSignal();
    if (flags.shard !== undefined) {
      const s = await runShard(format, spec, inputs, flags, flags.shard, hooksFor(flags as RunFlags, spec), signal);
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...(spec.report(s.result, flags, inputs).summary as object), part: s.part })}\n`);
      else if (!flags.quiet) process.stderr.write(`threadmill ${format} ${spec.name}: shard ${s.shard.index}/${s.shard.count} → ${s.part} (${s.records} records${s.rejected > 0 ? `, ${s.rejected} rejected` : ''})\n`);
      return;
    }
    const result = await runWhole(format, spec, inputs, flags, hooksFor(flags as RunFlags, spec), signal);
    showReport(spec.report(result, flags, inputs), flags);
  }));
}

function registerMerge(group: Command, format: FormatSpec): void {
  const long = format.commands.filter((c) => c.shard) as AnySpec[];
  // merge names its output as the commands do (-o FILE, -o DIR, --db FILE).
  const out = long.find((c) => c.output)?.output;
  const cmd = group.command('merge')
    .description(`merge the parts written by \`${format.name} ${long.map((c) => c.name).join('|')} --shard I/N\` into what one unsharded run gives`)
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .option(out?.flags ?? '-o, --output <file>', `${out?.help ?? 'the output'} (as the unsharded command writes it; with --partial: the merged part)`)
    .option('--json', 'the summary as JSON on stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP);
  const seen = new Set(cmd.options.map((o) => o.long));
  for (const spec of long) {
    // Each command's report and merge options once (two commands may both have --tsv).
    const scratch = group.createCommand('scratch');
    spec.reportOptions?.(scratch);
    spec.mergeOptions?.(scratch);
    for (const o of scratch.options) if (!seen.has(o.long)) { cmd.addOption(o); seen.add(o.long); }
  }
  cmd.action(action(async (paths: string[], flags: Flags & { partial?: boolean }) => {
    const output = out ? out.of(flags as never) : (flags.output as string | undefined);
    const m = await mergeParts(format, paths, { ...flags, output }, hooksFor(flags as RunFlags), interruptSignal());
    if (m.partial !== undefined) {
      if (!flags.quiet) process.stderr.write(`threadmill ${format.name} merge: ${m.parts.length} part(s) → merged part ${m.partial}\n`);
      return;
    }
    showReport(m.report!, flags);
  }));
}

/** Registers `threadmill <format> …` from its spec. */
export function registerFormat(program: Command, format: FormatSpec): Command {
  const group = program.command(format.name).description(format.description);
  for (const spec of format.commands) registerLong(group, format.name, spec as AnySpec);
  if (format.commands.some((c) => c.shard)) registerMerge(group, format);
  format.more?.(group);
  return group;
}
