/** The `threadmill fsscan` command group: import, query, histogram. */
import { Option, type Command } from 'commander';
import { addRunOptions, action, formatTable, interruptSignal, moreErrorsNote, positiveInt, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { ErrorLog } from '../../engine/error-log.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { SCAN_FORMATS, type ScanFormat } from './parse.js';

interface ImportFlags extends RunFlags {
  db: string;
  format?: ScanFormat;
  filesystem?: string;
  scanDate?: string;
  unescapePercent?: boolean;
  chunkSize?: number;
}

function registerImport(fsscan: Command): void {
  addRunOptions(fsscan.command('import')
    .description('scan logs (GPFS policy LIST, Lustre lfs find, GNU find -printf; plain, gzip or - for stdin) → a SQLite database fs-scans can query')
    .argument('<scans...>', 'scan files, or - for stdin; several files are read as one scan')
    .requiredOption('--db <file>', 'the database to write (replaced atomically when the run succeeds)')
    .addOption(new Option('--format <format>', 'input format (detected from the first record lines otherwise)').choices([...SCAN_FORMATS]))
    .option('--filesystem <name>', 'scan_metadata.filesystem (from the file name YYYYMMDD_<server>_<fs>.list… otherwise)')
    .option('--scan-date <YYYY-MM-DD>', 'scan date for the access-age histogram (from the file name otherwise)')
    .option('--unescape-percent', 'decode %XX in paths (scans run with the policy ESCAPE \'%\' clause)')
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(positiveInt('--chunk-size')).hideHelp()))
    .action(action(async (scans: string[], flags: ImportFlags) => {
      const tx = new OutputTransaction();
      const errorLog = new ErrorLog({ maxErrors: flags.maxErrors, rejectsPath: flags.rejects ? tx.tempFor(flags.rejects) : undefined, onError: printRecordError(flags), onMore: moreErrorsNote(flags), echo: 20 });
      const progress = progressFor(flags, 'fsscan import');
      try {
        const { importScan } = await import('./import.js');
        const s = await importScan({ inputs: scans, db: flags.db, threads: flags.threads, format: flags.format, filesystem: flags.filesystem, scanDate: flags.scanDate, unescapePercent: flags.unescapePercent, chunkSize: flags.chunkSize, progress, errorLog, signal: interruptSignal(), warn: warner(flags), transaction: tx });
        progress.finish();
        errorLog.close();
        tx.commit();
        if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else if (!flags.quiet) {
          const rows: [string, string | number][] = [['format', s.format ?? '-'], ['filesystem', s.filesystem], ['scan date', s.scan_date ?? '-'], ['lines', s.lines], ['messages skipped', s.messages], ['rejected', s.rejected], ['files', s.files], ['directories', s.directories], ['created (no line of their own)', s.created_directories], ['roots', s.roots], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['lines/s', s.lines_per_second]];
          process.stderr.write(`threadmill fsscan import: ${s.db}\n${formatTable(rows)}\n`);
        }
      } catch (err) {
        errorLog.close();
        tx.abort();
        throw err;
      }
    }));
}

export function registerFsscanCommands(program: Command): void {
  const fsscan = program.command('fsscan').description('file-system scan logs (GPFS LIST, Lustre lfs find, GNU find) → SQLite, queries, histograms');
  registerImport(fsscan);
}
