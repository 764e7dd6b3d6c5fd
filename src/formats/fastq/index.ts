/** Public FASTQ API (re-exported from the package's index). */
export { ParallelParser, type ParallelParserConfig, type ParseProgress, type WorkerFunction } from './parallel-parser.js';
export { FastqRecord, FastqParseError, FastqParseErrors } from './record.js';
export { type FastqStats } from './stats.js';
