import { createRoute, z } from '@hono/zod-openapi';
import { SUBSCRIBER_TOKEN_TTL_SECONDS } from '../../../domain/subscriber-token';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

const { default: DEFAULT_TTL, min: MIN_TTL, max: MAX_TTL } = SUBSCRIBER_TOKEN_TTL_SECONDS;

export const SubscriberTokenRequestSchema = z
  .object({
    namespace: safeText(1, 255).openapi({ example: 'crm' }),
    userId: safeText(1, 255).openapi({ example: 'user-42' }),
    ttlSeconds: z
      .number()
      .int()
      .min(MIN_TTL)
      .max(MAX_TTL)
      .optional()
      .openapi({ description: `How long the token is valid, in seconds: ${MIN_TTL} to ${MAX_TTL} (24 h); default ${DEFAULT_TTL} (1 h).` }),
  })
  .strict()
  .openapi('SubscriberTokenRequest');

export const SubscriberTokenSchema = z
  .object({
    token: z.string().openapi({ description: 'Send it as `Authorization: Bearer <token>` to the inbox routes (/v1/inbox/…).' }),
    expiresAt: z.string().openapi({ description: 'When it stops working (ISO 8601); ask for a new one before.', example: '2026-12-08T10:00:00.000Z' }),
  })
  .openapi('SubscriberToken');

export const createSubscriberToken = createRoute({
  method: 'post',
  path: '/v1/inbox/tokens',
  tags: ['Inbox'],
  security: allowKeys('full', 'trigger'),
  summary: 'Make a subscriber token for one person',
  description:
    "For your backend: a short-lived, signed token (a JWT) naming one person (namespace and userId), which their browser may hold. It grants the inbox calls (GET/PUT /v1/inbox/preferences, …) for that person and nothing else; it cannot be revoked, so keep it short. A trigger key limited to campaigns may ask only for people in its campaigns' audience namespaces. Needs HERALD_TRACKING_SECRET (422 without it), from which the signing key is derived.",
  request: { body: { required: true, content: { 'application/json': { schema: SubscriberTokenRequestSchema } } } },
  responses: {
    201: { description: 'The token', content: { 'application/json': { schema: SubscriberTokenSchema } } },
    400: problemContent('Invalid request'),
    ...v1Responses,
    413: problemContent('Body too large'),
    422: problemContent('HERALD_TRACKING_SECRET is not set (`subscriber-tokens-unavailable`)'),
  },
});
