/**
 * Record problems that leave the rest of the data unreadable (no length to step over) or that
 * mean the data ended: always fatal, whatever --max-errors says (pipeline.ts, region-run.ts).
 */
export const STRUCTURAL = new Set(['truncated_record', 'bad_length']);
