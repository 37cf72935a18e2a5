import { createRoute, z } from '@hono/zod-openapi';
import { CHANNELS } from '../../../domain/campaign';
import { SUPPRESSION_REASONS } from '../../../domain/provider-feedback';
import { allowKeys } from '../../access';
import { NDJSON_MEDIA_TYPES } from '../../ndjson-body';
import { problemContent, ProblemSchema, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

export const SuppressionSchema = z
  .object({
    channel: z.enum(CHANNELS),
    address: z.string().optional().openapi({
      description: 'Normalised: an email address lower-cased, a phone number in E.164. Absent once the person was erased (see addressHash).',
      example: 'ann@example.com',
    }),
    addressHash: z.string().optional().openapi({
      description:
        'Set instead of `address` after DELETE /v1/profiles/{namespace}/{userId} erased the person: a keyed hash of the address (`hmac-sha256:…`), which still refuses every send to it. DELETE /v1/suppressions/{channel}/{address} with the address removes it.',
    }),
    reason: z.enum(SUPPRESSION_REASONS).openapi({
      description: '`hard-bounce` and `complaint` come from provider events; `manual` from POST /v1/suppressions; `import` from the NDJSON import',
    }),
    detail: z.string().optional().openapi({ description: "The provider's raw reason, or the note given" }),
    createdAt: z.string(),
  })
  .openapi('Suppression', {
    description:
      'An address Herald does not send to on this channel: every later message to it, transactional ones included, is excluded with reason `suppressed`.',
  });

export const NewSuppressionSchema = z
  .object({
    channel: z.enum(CHANNELS),
    address: safeText(1, 320).openapi({ example: 'Ann@Example.com' }),
    reason: z.enum(SUPPRESSION_REASONS).optional().openapi({ description: 'Default `manual`' }),
    detail: safeText(1, 1024).optional().openapi({ description: 'A note kept with the entry' }),
  })
  .openapi('NewSuppression');

/** One line of POST /v1/suppressions/import. */
export const SuppressionImportLineSchema = z.object({ channel: z.enum(CHANNELS), address: safeText(1, 320) }).openapi('SuppressionImportLine');

export const SuppressionImportSummarySchema = z
  .object({
    received: z.number().int().openapi({ description: 'Lines read, blank lines left out: added + alreadySuppressed + rejected.' }),
    added: z.number().int(),
    alreadySuppressed: z.number().int().openapi({ description: 'Lines naming an address already on the list (its entry is kept as it was).' }),
    rejected: z.number().int().openapi({ description: 'Lines skipped: not JSON, too long, or not a valid channel and address.' }),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })).openapi({ description: 'Why lines were skipped; the first 1000.' }),
    errorsTruncated: z.literal(true).optional(),
  })
  .openapi('SuppressionImportSummary');

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Suppressions'];
const security = allowKeys('full');

export const listSuppressions = createRoute({
  method: 'get',
  path: '/v1/suppressions',
  tags,
  security,
  summary: 'List the suppression list, by channel and address',
  request: {
    query: z.object({
      channel: z.enum(CHANNELS).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: safeText(0, 2000).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: json(z.object({ items: z.array(SuppressionSchema), nextCursor: z.string().optional() }).openapi('SuppressionPage'), 'A page of entries'),
    400: problemContent('Invalid query or cursor'),
    ...v1Responses,
  },
});

export const addSuppression = createRoute({
  method: 'post',
  path: '/v1/suppressions',
  tags,
  security,
  summary: 'Put an address on the suppression list',
  description: 'The address is normalised (email lower-cased, phone in E.164). Answers 201 when added, 200 with the existing entry when it was listed already.',
  request: { body: { required: true, content: { 'application/json': { schema: NewSuppressionSchema } } } },
  responses: {
    201: json(SuppressionSchema, 'Added'),
    200: json(SuppressionSchema, 'Already listed: the entry as it is'),
    400: problemContent('Invalid channel or address'),
    ...v1Responses,
  },
});

const AddressParams = z.object({
  channel: z.enum(CHANNELS).openapi({ param: { name: 'channel', in: 'path' }, example: 'email' }),
  address: safeText(1, 320).openapi({ param: { name: 'address', in: 'path' }, example: 'ann@example.com' }),
});

export const deleteSuppression = createRoute({
  method: 'delete',
  path: '/v1/suppressions/{channel}/{address}',
  tags,
  security,
  summary: 'Take an address off the suppression list',
  description:
    'Later messages go to it again. The address is matched normalised (any case for email; any international format for a phone number, `+` URL-encoded or not).',
  request: { params: AddressParams },
  responses: {
    204: { description: 'Removed' },
    400: problemContent('Invalid channel or address'),
    ...v1Responses,
    404: problemContent('The address is not on the list'),
  },
});

const SuppressionImportCutShortSchema = ProblemSchema.extend({ summary: SuppressionImportSummarySchema }).openapi('SuppressionImportCutShort');
// A plain JSON Schema, not zod, so no validator reads the whole body; the handler streams it.
const ndjsonBody = {
  schema: {
    type: 'string' as const,
    format: 'binary',
    description: 'One SuppressionImportLine `{channel, address}` per line, separated by \\n (\\r\\n accepted); blank lines are skipped.',
  },
};

export const importSuppressions = createRoute({
  method: 'post',
  path: '/v1/suppressions/import',
  tags,
  security,
  summary: 'Add addresses to the suppression list in bulk (NDJSON, streamed)',
  description: [
    "The body is newline-delimited JSON (`Content-Type: application/x-ndjson` or `application/jsonl`), one `{channel, address}` per line, read as a stream under the profile import's limits (HERALD_IMPORT_MAX_BYTES, HERALD_IMPORT_MAX_LINE_BYTES).",
    'Each address is normalised and added with reason `import`, 500 per transaction as the body arrives; an address already listed keeps its entry. Lines that are not JSON or not a valid channel and address are skipped and listed in `errors`. Running the same import again is safe.',
    'A body over HERALD_IMPORT_MAX_BYTES is read up to the limit: the lines before it are added and the answer is 413 with the summary. One audit entry (`suppression.imported`, resource `suppression`/`import`) records the counts.',
  ].join('\n\n'),
  request: { body: { required: true, content: Object.fromEntries(NDJSON_MEDIA_TYPES.map((type) => [type, ndjsonBody])) } },
  responses: {
    200: json(SuppressionImportSummarySchema, 'The import ran to the end of the body'),
    413: {
      description: 'The body exceeds HERALD_IMPORT_MAX_BYTES: the lines before the limit were added',
      content: { 'application/problem+json': { schema: SuppressionImportCutShortSchema } },
    },
    415: problemContent('The body is not NDJSON (Content-Type application/x-ndjson or application/jsonl)'),
    ...v1Responses,
  },
});
