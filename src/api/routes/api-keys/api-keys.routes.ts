import { createRoute, z } from '@hono/zod-openapi';
import { API_KEY_SCOPES } from '../../../domain/api-key';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

const keyFields = {
  id: z.string().openapi({ example: '01KAB3ZJ5W9R6Q8X2N4M7P0T1V' }),
  name: z.string().openapi({ example: 'checkout service' }),
  scope: z
    .enum(API_KEY_SCOPES)
    .openapi({ description: 'full: every route. trigger: POST /v1/executions/unitary and GET /v1/executions/{id} for the executions it started.' }),
  campaignIds: z.array(z.string()).optional().openapi({ description: 'Only for trigger keys: the campaigns this key may trigger. Absent: any campaign.' }),
  createdAt: z.string(),
};

export const ApiKeySchema = z
  .object({ ...keyFields, lastUsedAt: z.string().nullable().openapi({ description: 'Updated at most about once a minute' }) })
  .openapi('ApiKey', { description: 'A key as listed: never its secret.' });

const CreatedApiKeySchema = z
  .object({
    ...keyFields,
    key: z.string().openapi({
      description: 'The secret, shown only in this answer. Herald keeps only its SHA-256.',
      example: 'hrld_3q2-7wEVwzm0vV8Hn1ZbXyKp5r9UuTf6aJcLdGsRhQe',
    }),
  })
  .openapi('CreatedApiKey');

export const ApiKeyCreateSchema = z
  .object({
    name: safeText(1, 100).openapi({ example: 'checkout service' }),
    scope: z.enum(API_KEY_SCOPES),
    campaignIds: z
      .array(safeText(1, 64))
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'Only with scope trigger: limits the key to these existing campaigns.' }),
  })
  .strict()
  .openapi('ApiKeyCreate');

const tags = ['API keys'];
const security = allowKeys('full');

export const createApiKey = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  tags,
  security,
  summary: 'Create an API key; the answer is the only time its secret is shown',
  request: { body: { required: true, content: { 'application/json': { schema: ApiKeyCreateSchema } } } },
  responses: {
    201: { description: 'The new key, with its secret in `key`', content: { 'application/json': { schema: CreatedApiKeySchema } } },
    400: problemContent('Invalid key: campaignIds with scope full, or an unknown campaign'),
    ...v1Responses,
    413: problemContent('Body too large'),
  },
});

export const listApiKeys = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  tags,
  security,
  summary: 'List the API keys that are not revoked, newest first (keys from HERALD_API_KEYS are not listed)',
  responses: {
    200: {
      description: 'The keys, without secrets',
      content: { 'application/json': { schema: z.object({ items: z.array(ApiKeySchema) }).openapi('ApiKeyList') } },
    },
    ...v1Responses,
  },
});

export const revokeApiKey = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  tags,
  security,
  summary: 'Revoke an API key, at once, in every API process',
  request: { params: z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    204: { description: 'Revoked' },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown or already revoked key'),
    409: problemContent('A key from HERALD_API_KEYS: remove it there'),
  },
});
