import { NDJSON_MEDIA_TYPES } from '../../ndjson-body';
import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, ProblemSchema, v1Responses } from '../../problem';

/** The media types an import body may be sent as (compared without parameters, case-insensitively). */

export const ProfileImportSummarySchema = z
  .object({
    received: z.number().int().openapi({ description: 'Lines read, blank lines left out: created + updated + rejected.' }),
    created: z.number().int(),
    updated: z.number().int().openapi({ description: 'Lines that replaced an existing profile (a userId given twice: its second line counts here).' }),
    rejected: z.number().int().openapi({ description: 'Lines skipped: not JSON, too long, or not a valid profile.' }),
    errors: z
      .array(z.object({ line: z.number().int().openapi({ description: '1-based line number in the body' }), reason: z.string() }))
      .openapi({ description: 'Why lines were skipped (and, on 413, from which line on nothing was read); the first 1000.' }),
    errorsTruncated: z.literal(true).optional().openapi({ description: 'Present when there were more than 1000 errors.' }),
  })
  .openapi('ProfileImportSummary');

const ProfileImportCutShortSchema = ProblemSchema.extend({ summary: ProfileImportSummarySchema }).openapi('ProfileImportCutShort');

// A plain JSON Schema, not zod: @hono/zod-openapi would otherwise put a validator in front that
// reads the whole body (it takes application/jsonl for JSON). The handler reads the stream itself.
const ndjsonBody = {
  schema: {
    type: 'string' as const,
    format: 'binary',
    description: 'One ProfileImportLine (a JSON object) per line, separated by \\n (\\r\\n accepted); blank lines are skipped.',
  },
};

export const importProfiles = createRoute({
  method: 'post',
  path: '/v1/profiles/import',
  tags: ['Profiles'],
  security: allowKeys('full'),
  summary: 'Create or replace profiles in bulk (NDJSON, streamed)',
  description: [
    'The body is newline-delimited JSON (`Content-Type: application/x-ndjson` or `application/jsonl`), one `{namespace, userId, attributes, consents?, locale?}` (ProfileImportLine) per line, read as a stream: it may be far larger than the 1 MB other bodies may hold (HERALD_IMPORT_MAX_BYTES, default 1 GiB; a line up to HERALD_IMPORT_MAX_LINE_BYTES, default 64 KiB).',
    'Each line is upserted as PUT /v1/profiles/{namespace}/{userId} would: attributes replaced, consents merged, `locale` canonicalised and set when given. Profiles are written 500 per transaction as the body arrives, so what was written stays written if the call fails midway; running the same import again is safe.',
    'A line that is not JSON, too long or not a valid profile is skipped and listed in `errors` with its 1-based line number; the other lines are imported. A userId given on two lines ends as the second left it.',
    'A body over HERALD_IMPORT_MAX_BYTES is read up to the limit: the profiles before it are imported and the answer is 413, with the summary in `summary` and an error naming the first line not read.',
    'One audit entry (action `profile.imported`, resource `profile`/`import`) records the counts.',
  ].join('\n\n'),
  request: { body: { required: true, content: Object.fromEntries(NDJSON_MEDIA_TYPES.map((type) => [type, ndjsonBody])) } },
  responses: {
    200: {
      description: 'The import ran to the end of the body; see `rejected` and `errors` for lines skipped.',
      content: { 'application/json': { schema: ProfileImportSummarySchema } },
    },
    413: {
      description: 'The body exceeds HERALD_IMPORT_MAX_BYTES: the lines before the limit were imported (see `summary`), the rest was not read',
      content: { 'application/problem+json': { schema: ProfileImportCutShortSchema } },
    },
    415: problemContent('The body is not NDJSON (Content-Type application/x-ndjson or application/jsonl)'),
    ...v1Responses,
  },
});
