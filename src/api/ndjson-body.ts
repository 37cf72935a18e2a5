import type { z } from '@hono/zod-openapi';
import { Problem, zodIssuesToFieldErrors } from './problem';

/** What the NDJSON routes (bulk profiles, audience members) accept as Content-Type. */
export const NDJSON_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonl'] as const;

/** Longest reason given for one rejected line; a line with many bad fields would otherwise repeat them all. */
const MAX_REASON_CHARS = 500;

/** 415 unless the body is declared NDJSON; `what` says what each line holds. */
export function requireNdjson(contentType: string | undefined, what: string): void {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (NDJSON_MEDIA_TYPES.some((accepted) => accepted === type)) return;
  throw new Problem(
    415,
    'unsupported-media-type',
    'Unsupported media type',
    `Send ${what} as NDJSON, with Content-Type ${NDJSON_MEDIA_TYPES.join(' or ')}.`,
    undefined,
    { connection: 'close' },
  );
}

/** Why a line failed its schema, in one line: `field: message; …`, cut to MAX_REASON_CHARS. */
export function lineRejection(issues: z.core.$ZodIssue[]): string {
  const reason = zodIssuesToFieldErrors(issues)
    .map((error) => `${error.field === '(body)' ? '(line)' : error.field}: ${error.message}`)
    .join('; ');
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}

/** The body stopped being read at HERALD_IMPORT_MAX_BYTES: 413, with what was applied up to there in `summary`. */
export class NdjsonCutShort extends Problem {
  constructor(
    readonly summary: unknown,
    maxBytes: number,
    what: string,
  ) {
    // The rest of the body is never read, so the socket cannot be reused.
    super(
      413,
      'payload-too-large',
      'Request body too large',
      `${what} bodies may be at most ${maxBytes} bytes (HERALD_IMPORT_MAX_BYTES); the lines before the limit were applied, see summary.`,
      undefined,
      { connection: 'close' },
    );
  }

  override toJSON() {
    return { ...super.toJSON(), summary: this.summary };
  }
}
