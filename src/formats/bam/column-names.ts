/** Column names of `bam convert`, apart from the schema so the CLI can list them without loading apache-arrow. */

/** The eleven SAM columns and tags, in output order. */
export const BAM_COLUMNS = ['qname', 'flag', 'rname', 'pos', 'mapq', 'cigar', 'rnext', 'pnext', 'tlen', 'seq', 'qual', 'tags'] as const;
/** Bits 0x1 … 0x800 as boolean columns (--flag-columns), named after samtools' flag names. */
export const FLAG_COLUMNS = ['paired', 'proper_pair', 'unmapped', 'mate_unmapped', 'reverse', 'mate_reverse', 'read1', 'read2', 'secondary', 'qc_fail', 'duplicate', 'supplementary'] as const;
