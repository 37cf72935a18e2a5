import { z } from 'zod';
import { wholeNumber } from './zod-helpers';

/** POST /v1/profiles/import reads its NDJSON body as a stream under these limits, not MAX_BODY_BYTES. */
export const profileImportVariables = z.object({
  HERALD_IMPORT_MAX_BYTES: wholeNumber('HERALD_IMPORT_MAX_BYTES', 1024 ** 3, 1024, 2 ** 50, 'bytes'),
  HERALD_IMPORT_MAX_LINE_BYTES: wholeNumber('HERALD_IMPORT_MAX_LINE_BYTES', 64 * 1024, 256, 64 * 1024 * 1024, 'bytes'),
});

export type ProfileImportVariables = z.infer<typeof profileImportVariables>;

export interface ProfileImportConfig {
  /** Bulk profile import (POST /v1/profiles/import): bytes per request body and per NDJSON line. */
  profileImport: { maxBytes: number; maxLineBytes: number };
}

export function profileImportConfig(e: ProfileImportVariables): ProfileImportConfig {
  return { profileImport: { maxBytes: e.HERALD_IMPORT_MAX_BYTES, maxLineBytes: e.HERALD_IMPORT_MAX_LINE_BYTES } };
}
