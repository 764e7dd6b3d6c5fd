import { ThreadmillError, type ErrorCode } from '../../engine/errors.js';

/**
 * Fatal BAM problems. Codes: `BAM_BAD_MAGIC` (not a BAM file), `BAM_BAD_HEADER` (header cut or
 * inconsistent), `BAM_BAD_RECORD` (a record that cannot be decoded: length past the data, bad
 * reference id, fields inconsistent with its length), `BAM_TRUNCATED` (file ends inside a record).
 */
export class BamError extends ThreadmillError {
  constructor(code: Extract<ErrorCode, `BAM_${string}`>, message: string) {
    super(code, message);
    this.name = 'BamError';
  }
}
