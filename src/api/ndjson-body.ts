import type { z } from '@hono/zod-openapi';
import type { RejectedImportLine, UnreadImportLine } from '../services/batched-import';
import { NdjsonBodyTooLarge, type NdjsonLine } from './ndjson-lines';
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

/**
 * Each line of an NDJSON body checked against `schema` and made an entry by `entry`: a line that
 * is not JSON, or fails the schema, is `rejected` with its reason; a body over
 * HERALD_IMPORT_MAX_BYTES ends in one `unread` entry for the line it stopped at.
 */
export async function* checkedNdjsonEntries<S extends z.ZodType, E>(
  lines: AsyncIterable<NdjsonLine>,
  schema: S,
  entry: (line: number, value: z.output<S>) => E,
): AsyncGenerator<E | RejectedImportLine | UnreadImportLine> {
  try {
    for await (const line of lines) {
      if (line.kind === 'invalid') {
        yield { line: line.line, kind: 'rejected', reason: line.reason };
        continue;
      }
      const parsed = schema.safeParse(line.value);
      if (parsed.success) yield entry(line.line, parsed.data);
      else yield { line: line.line, kind: 'rejected', reason: lineRejection(parsed.error.issues) };
    }
  } catch (error) {
    if (!(error instanceof NdjsonBodyTooLarge)) throw error;
    yield {
      line: error.afterLine + 1,
      kind: 'unread',
      reason: `the body exceeds ${error.maxBodyBytes} bytes (HERALD_IMPORT_MAX_BYTES): this line and those after it were not read`,
    };
  }
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
