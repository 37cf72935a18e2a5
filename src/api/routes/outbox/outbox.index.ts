import { createRoute, z } from '@hono/zod-openapi';
import { CHANNELS } from '../../../domain/campaign';
import { allowKeys } from '../../access';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { problemContent, v1Responses } from '../../problem';

const OutboxMessageSchema = z
  .object({
    id: z.string(),
    // Every channel's name (an in-app message never goes to the outbox: it is stored in the inbox).
    channel: z.enum(CHANNELS),
    to: z.string(),
    subject: z.string().nullable(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    campaignId: z.string(),
    executionId: z.string(),
    userId: z.string(),
    createdAt: z.string(),
  })
  .openapi('OutboxMessage');

export const listOutbox = createRoute({
  method: 'get',
  path: '/v1/outbox',
  tags: ['Outbox'],
  security: allowKeys('full'),
  summary: 'Messages captured by the development outbox provider (used while RESEND_API_KEY is unset)',
  request: {
    query: z.object({
      campaignId: z.string().max(64).optional(),
      to: z.string().max(254).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: {
    200: { description: 'Newest first', content: { 'application/json': { schema: z.object({ items: z.array(OutboxMessageSchema) }) } } },
    400: problemContent('Invalid query'),
    ...v1Responses,
  },
});

export function outboxRouter(deps: ServiceDependencies) {
  return createRouter().openapi(listOutbox, async (c) => c.json({ items: await deps.outbox.list(c.req.valid('query')) }, 200));
}
