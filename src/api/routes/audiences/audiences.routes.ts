import { NDJSON_MEDIA_TYPES } from '../../ndjson-body';
import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { AudienceDefinitionSchema } from '../../schemas/audience-rule';
import { safeText } from '../../schemas/safe-text';
import { MAX_REPORTED_MEMBER_ERRORS, MEMBER_BATCH_SIZE } from '../../../services/audiences';

export const AudienceCreateSchema = z
  .object({
    name: safeText(1, 255).openapi({ example: 'French customers who opted in to email' }),
    namespace: safeText(1, 255).openapi({
      description: "The profiles' namespace (as in /v1/profiles/{namespace}/…); a run sends to campaigns of this namespace.",
      example: 'crm',
    }),
    definition: AudienceDefinitionSchema,
  })
  .strict()
  .openapi('AudienceCreate');

export const AudienceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    namespace: z.string(),
    definition: AudienceDefinitionSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Audience');

const AudienceWithSizeSchema = AudienceSchema.extend({
  estimatedSize: z.number().int().openapi({
    description:
      "Members now: profiles matching the rule, or a static audience's user ids (with or without a profile). Counted when asked; a run freezes its own members when it starts.",
  }),
}).openapi('AudienceWithSize');

const LineError = z.object({ line: z.number().int(), reason: z.string() });
const reportFields = {
  received: z.number().int().openapi({ description: 'Non-blank lines read' }),
  rejected: z.number().int().openapi({ description: 'Lines refused (not JSON, not {"userId": "…"}, longer than HERALD_IMPORT_MAX_LINE_BYTES)' }),
  errors: z.array(LineError).openapi({ description: `The first ${MAX_REPORTED_MEMBER_ERRORS} refused lines, with their 1-based line number` }),
};

export const AddMembersReportSchema = z
  .object({
    ...reportFields,
    added: z.number().int(),
    alreadyMembers: z.number().int().openapi({ description: 'Valid lines whose user id was a member already (or repeated in the body)' }),
  })
  .openapi('AudienceMembersAdded');
export const RemoveMembersReportSchema = z
  .object({ ...reportFields, removed: z.number().int(), notMembers: z.number().int().openapi({ description: 'Valid lines whose user id was not a member' }) })
  .openapi('AudienceMembersRemoved');

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });
const MemberParams = IdParams.extend({ userId: safeText(1, 255).openapi({ param: { name: 'userId', in: 'path' }, example: 'ada@example.com' }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Audiences'];
const security = allowKeys('full');

/** As for POST /v1/profiles/import. */

const NDJSON_BODY = {
  required: true,
  description: `Newline-delimited JSON, one \`{"userId": "…"}\` per line (Content-Type application/x-ndjson or application/jsonl), streamed: applied in batches of ${MEMBER_BATCH_SIZE} as they are read, each committed on its own, so sending a body again is harmless. Bad lines are reported and skipped; they never fail the call.`,
  // A plain JSON Schema, not zod: @hono/zod-openapi would put a validator in front that reads the whole body (it takes application/jsonl for JSON).
  content: Object.fromEntries(
    NDJSON_MEDIA_TYPES.map((type) => [
      type,
      { schema: { type: 'string' as const, format: 'binary', example: '{"userId":"ada@example.com"}\n{"userId":"grace@example.com"}\n' } },
    ]),
  ),
};

export const createAudience = createRoute({
  method: 'post',
  path: '/v1/audiences',
  tags,
  security,
  summary: 'Create an audience: a rule over profiles, or a static list of user ids',
  description: [
    '`definition` is `{"type": "static"}` (members added with POST /v1/audiences/{id}/members) or `{"type": "rule", "where": [...]}`: the profiles of `namespace` for which every condition holds, evaluated by the database.',
    'Conditions: `{"attribute": "plan.tier", "op": …, "value": …}` (ops eq, neq, in, notIn, exists, notExists, gt, gte, lt, lte, contains), `{"consent": "email", "op": "eq", "value": "in"}`, `{"locale": ["fr", "pt-BR"]}`, and the groups `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`.',
    'Values are typed as in JSON: 30 never equals "30"; gt/gte/lt/lte compare numbers with numbers and strings with strings (by code point), and an attribute of another type does not match. neq and notIn are the negations of eq and in, so they also match profiles without the attribute.',
    'Limits: 50 conditions (groups included), groups nested 5 deep, 1000 values in a list, 1024 characters in a string value, attribute paths of up to 8 keys (letters, digits, _ and -, each starting with a letter or _).',
  ].join('\n\n'),
  request: { body: { required: true, content: { 'application/json': { schema: AudienceCreateSchema } } } },
  responses: {
    201: json(AudienceSchema, 'The new audience'),
    400: problemContent('Invalid audience, or a rule over the size limits; every problem is listed in errors'),
    ...v1Responses,
    413: problemContent('Body too large'),
  },
});

export const listAudiences = createRoute({
  method: 'get',
  path: '/v1/audiences',
  tags,
  security,
  summary: 'List audiences, newest first (without their size)',
  request: {
    query: z.object({
      namespace: safeText(1, 255).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: safeText(0, 64).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: json(z.object({ items: z.array(AudienceSchema), nextCursor: z.string().optional() }).openapi('AudiencePage'), 'A page of audiences'),
    400: problemContent('Invalid query'),
    ...v1Responses,
  },
});

export const getAudience = createRoute({
  method: 'get',
  path: '/v1/audiences/{id}',
  tags,
  security,
  summary: 'Get an audience with its current size',
  request: { params: IdParams },
  responses: { 200: json(AudienceWithSizeSchema, 'The audience'), 400: problemContent('Invalid id'), ...v1Responses, 404: problemContent('Unknown audience') },
});

export const deleteAudience = createRoute({
  method: 'delete',
  path: '/v1/audiences/{id}',
  tags,
  security,
  summary: "Delete an audience (and a static one's members)",
  description:
    'Runs that have started keep the members they froze. Refused while an audience run that has not started yet (a scheduled one) still has to read it.',
  request: { params: IdParams },
  responses: {
    204: { description: 'Deleted' },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown audience'),
    409: problemContent('A run that has not started yet uses it'),
  },
});

export const addMembers = createRoute({
  method: 'post',
  path: '/v1/audiences/{id}/members',
  tags,
  security,
  summary: 'Add user ids to a static audience (NDJSON stream)',
  description: 'A member needs no profile yet; a run reports members without one as failed (profile not found). Adding a member twice is a no-op.',
  request: { params: IdParams, body: NDJSON_BODY },
  responses: {
    200: json(AddMembersReportSchema, 'What was read and added'),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown audience'),
    409: problemContent('A rule audience: its members are the profiles its rule matches'),
    413: problemContent('The body exceeds HERALD_IMPORT_MAX_BYTES: the lines before the limit were applied, see summary'),
    415: problemContent('Not application/x-ndjson'),
  },
});

export const removeMembers = createRoute({
  method: 'delete',
  path: '/v1/audiences/{id}/members',
  tags,
  security,
  summary: 'Remove user ids from a static audience (NDJSON stream)',
  request: { params: IdParams, body: NDJSON_BODY },
  responses: {
    200: json(RemoveMembersReportSchema, 'What was read and removed'),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown audience'),
    409: problemContent('A rule audience'),
    413: problemContent('The body exceeds HERALD_IMPORT_MAX_BYTES: the lines before the limit were applied, see summary'),
    415: problemContent('Not application/x-ndjson'),
  },
});

export const removeMember = createRoute({
  method: 'delete',
  path: '/v1/audiences/{id}/members/{userId}',
  tags,
  security,
  summary: 'Remove one user id from a static audience',
  request: { params: MemberParams },
  responses: {
    204: { description: 'Removed' },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown audience, or not a member'),
    409: problemContent('A rule audience'),
  },
});
