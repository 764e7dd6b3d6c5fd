/**
 * Every fatal error code threadmill has, with the exit status the CLI returns for it and what it
 * means: the one table scripts, docs/errors.md and ThreadmillError's default exit status come
 * from (decision 0028). Adding a code means adding its row here; the compiler refuses a
 * ThreadmillError with a code that has none, and test/engine/error-catalogue.test.ts refuses a
 * code literal elsewhere in src/ (an HTTP answer, a ternary) that is missing, a row no code in
 * src/ uses, a row without a test that provokes it, and docs/errors.md differing from the table.
 *
 * `exit`: 2 for a command line that cannot run as given (fix the command), 1 for a run that failed
 * (fix the input, the disk, the environment), 130 for an interrupt, null for codes that only
 * `code serve` answers with (`http`: the HTTP status it sends them with).
 */
export interface CatalogueEntry {
  readonly exit: number | null;
  readonly meaning: string;
  readonly http?: number;
}

export const ERROR_CATALOGUE = {
  // The command line: exit 2.
  USAGE: { exit: 2, meaning: 'the command line is wrong: an unknown option, a bad value, options that exclude each other' },
  BAD_REQUEST: { exit: 2, http: 400, meaning: 'a query argument is missing or out of range (code query, code serve)' },
  BAD_STORE: { exit: 2, meaning: '--db names a store threadmill does not know (not a path, sqlite: or postgres://)' },
  BAD_OUTPUT: { exit: 2, meaning: '--db of code index is a directory' },
  FILTER_INVALID: { exit: 2, meaning: 'a nostr query filter (--filter, --tag) is not valid' },
  FSSCAN_BAD_DATE: { exit: 2, meaning: '--scan-date is not YYYY-MM-DD' },
  FSSCAN_NO_FILESYSTEM: { exit: 2, meaning: 'the file-system name cannot be told from the scan file name; give --filesystem' },
  INVALID_ID: { exit: 2, meaning: 'a nostr event id is not 64 hex characters' },
  NOT_A_DIRECTORY: { exit: 2, meaning: 'code index was given a file, not a folder' },
  OUTPUT_EXISTS: { exit: 2, meaning: 'the output exists and is not what this command may replace' },
  OUTPUT_IS_DIRECTORY: { exit: 2, meaning: 'an output file path is a directory' },
  OUTPUT_IS_INPUT: { exit: 2, meaning: 'an output path is an input, or another output, of the same run' },
  OUTPUT_NOT_DIRECTORY: { exit: 2, meaning: 'an output directory (or a parent of an output) is a file' },
  OUTPUT_UNSUPPORTED: { exit: 2, meaning: 'the output cannot be written there: stdout taken, an empty path, /proc, a symlink loop, an unknown extension' },
  ROOT_MISMATCH: { exit: 2, meaning: 'the code graph holds another folder; pass --replace or another --db' },
  SHARD_UNSEEKABLE: { exit: 2, meaning: '--shard needs files, not stdin or a pipe: every shard must read the same input' },

  // Inputs: exit 1.
  INPUT_NOT_FOUND: { exit: 1, meaning: 'an input does not exist' },
  INPUT_UNREADABLE: { exit: 1, meaning: 'an input cannot be read: a directory, no permission' },
  INPUT_CHANGED: { exit: 1, meaning: 'an input changed size or identity (device, inode, mtime) while the run read it; no output was replaced' },
  INPUT_COMPRESSION_UNSUPPORTED: { exit: 1, meaning: 'an input is compressed with bzip2, xz or lz4, which threadmill does not read' },
  INPUT_NOT_FASTQ: { exit: 1, meaning: 'the input does not look like FASTQ' },
  INPUT_TOO_LARGE: { exit: 1, meaning: 'an input that is read as one chunk is larger than the chunk limit' },
  RECORD_TOO_LARGE: { exit: 1, meaning: 'no record boundary within the chunk limit: a huge record, or data not in this format' },
  GZIP_CORRUPT: { exit: 1, meaning: 'bad or truncated gzip data' },
  ZSTD_CORRUPT: { exit: 1, meaning: 'bad or truncated zstd data' },
  BGZF_CORRUPT: { exit: 1, meaning: 'a BGZF block with a bad header, deflate data, CRC32 or size' },
  BGZF_TRUNCATED: { exit: 1, meaning: 'the file ends inside a BGZF block (--allow-truncated keeps what came before)' },
  BAM_BAD_MAGIC: { exit: 1, meaning: 'not a BAM file (SAM, CRAM and plain text are named in the message)' },
  BAM_BAD_HEADER: { exit: 1, meaning: 'the BAM header is cut short or inconsistent' },
  BAM_BAD_RECORD: { exit: 1, meaning: 'a BAM record cannot be decoded: a length past the data, a reference id out of range' },
  BAM_BAD_INDEX: { exit: 1, meaning: 'a BAM index (.bai/.csi) is cut short or inconsistent' },
  BAM_TRUNCATED: { exit: 1, meaning: 'the BAM data ends inside a record' },
  FASTQ_PAIR_MISMATCH: { exit: 1, meaning: 'mates of a pair disagree (names, or one file ends first)' },
  FASTQ_TRUNCATED: { exit: 1, meaning: 'the FASTQ input ends inside a record (--allow-truncated keeps what came before)' },
  FASTQ_WRAPPED: { exit: 1, meaning: 'the FASTQ records are wrapped over several lines; rerun with --wrapped' },
  FSSCAN_MIXED_FORMATS: { exit: 1, meaning: 'a scan mixes GPFS, Lustre and find records; give --format' },
  FSSCAN_SUM_OVERFLOW: { exit: 1, meaning: "one directory's bytes within one chunk exceed 2^53; use a smaller --chunk-size" },
  PB_CORRUPT: { exit: 1, meaning: 'a nostr day file (.pb.gz) holds a cut or corrupt record' },
  TOO_MANY_ERRORS: { exit: 1, meaning: 'more rejected records than --max-errors allows' },

  // Outputs: exit 1.
  DISK_FULL: { exit: 1, meaning: 'no space left (or quota exceeded) on the device of the named output; no output was replaced' },
  OUTPUT_LOCKED: { exit: 1, meaning: 'another live threadmill run is writing the same output' },
  OUTPUT_UNWRITABLE: { exit: 1, meaning: 'an output cannot be created: no permission, a read-only file system' },
  OUTPUT_RECOVERY_FAILED: { exit: 1, meaning: 'an earlier run was killed while committing, and its commit cannot be finished' },
  IPC_CODEC_UNAVAILABLE: { exit: 1, meaning: 'the lz4 or zstd codec for Arrow IPC compression cannot be loaded' },
  MERGE_FAILED: { exit: 1, meaning: 'appending the table files of parts failed' },
  INDEX_WRITE_FAILED: { exit: 1, meaning: 'the nostr index writer failed (SQLite said why: an existing index.db of another schema)' },

  // Stores and indexes: exit 1.
  DB_NOT_FOUND: { exit: 1, meaning: 'no code graph at the given --db' },
  DB_UNREACHABLE: { exit: 1, meaning: 'the PostgreSQL server cannot be reached' },
  BAD_DB: { exit: 1, meaning: 'the --db file is not a threadmill code graph, or cannot be opened' },
  FSSCAN_NO_DATABASE: { exit: 1, meaning: 'the file is not an fs-scans database' },
  INDEX_NOT_FOUND: { exit: 1, meaning: 'a nostr output directory has no index.db' },
  INDEX_CORRUPT: { exit: 1, meaning: 'a nostr index.db is not a readable SQLite file or holds a malformed row; nostr index rebuild rewrites it' },
  INDEX_MISMATCH: { exit: 1, meaning: 'a nostr index.db disagrees with its day files; nostr index rebuild rewrites it' },

  // Shards and merges: exit 1.
  PART_INVALID: { exit: 1, meaning: 'a merge input is not a complete part (no or bad manifest, an unfinished temporary)' },
  PART_MISSING: { exit: 1, meaning: 'a part, or a shard of the run, is missing' },
  PART_MISMATCH: { exit: 1, meaning: 'parts come from different commands, options, inputs or versions' },
  PART_DUPLICATE: { exit: 1, meaning: 'two parts hold the same shard' },

  // Code graph queries and the server.
  NOT_FOUND: { exit: 1, http: 404, meaning: 'no entity or file by that name in the code graph' },
  AMBIGUOUS_NAME: { exit: 1, http: 409, meaning: 'a name matches several entities; ask again with one of the listed keys' },
  SERVE_FAILED: { exit: 1, meaning: 'code serve cannot listen on the host and port' },
  METHOD_NOT_ALLOWED: { exit: null, http: 405, meaning: 'code serve answers GET only' },
  NO_ROUTE: { exit: null, http: 404, meaning: 'code serve has no such path' },
  REQUEST_TOO_LARGE: { exit: null, http: 431, meaning: 'the request line and headers exceed 16 KiB' },

  // The run itself.
  INTERRUPTED: { exit: 130, meaning: 'stopped by SIGINT (130) or SIGTERM (143); outputs were rolled back' },
  WORKER_FAILED: { exit: 1, meaning: 'a worker thread crashed, exited, or failed with an error that has no code of its own' },
  POOL_CLOSED: { exit: 1, meaning: 'work was given to a worker pool that had been closed (a library misuse)' },
  RUN_FAILED: { exit: 1, meaning: 'a library run failed with an error that has no code of its own (the cause is attached)' },
  INTERNAL: { exit: 1, meaning: 'a bug: an unexpected error; rerun with --debug and report it' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The exit status the CLI returns for `code` (1 for a code that never ends a process). */
export function exitStatusOf(code: ErrorCode): number {
  return (ERROR_CATALOGUE[code] as CatalogueEntry).exit ?? 1;
}
