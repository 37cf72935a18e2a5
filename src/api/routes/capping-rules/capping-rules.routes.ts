import { createRoute, z } from '@hono/zod-openapi';
import { CHANNELS } from '../../../domain/campaign';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { CappingSchema } from '../../schemas/capping-and-quiet-hours';

export const CappingRuleSchema = z
  .object({
    channel: z.enum(CHANNELS),
    max: z.number().int(),
    periodHours: z.number().int(),
    updatedAt: z.string(),
  })
  .openapi('CappingRule', {
    description:
      'At most `max` marketing messages to one profile on `channel` in any `periodHours` hours, across campaigns. Transactional campaigns are never capped.',
  });

const ChannelParams = z.object({ channel: z.enum(CHANNELS).openapi({ param: { name: 'channel', in: 'path' }, example: 'email' }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Capping rules'];
const security = allowKeys('full');

export const listCappingRules = createRoute({
  method: 'get',
  path: '/v1/rules/capping',
  tags,
  security,
  summary: 'List the global capping rules (at most one per channel)',
  responses: { 200: json(z.object({ items: z.array(CappingRuleSchema) }).openapi('CappingRuleList'), 'The rules, by channel'), ...v1Responses },
});

export const putCappingRule = createRoute({
  method: 'put',
  path: '/v1/rules/capping/{channel}',
  tags,
  security,
  summary: "Set a channel's global capping rule for marketing messages",
  description:
    'Creates or replaces the rule. A marketing recipient who was sent `max` marketing messages on the channel (any campaign) in the last `periodHours` hours is excluded with reason `capped`.',
  request: { params: ChannelParams, body: { required: true, content: { 'application/json': { schema: CappingSchema } } } },
  responses: { 200: json(CappingRuleSchema, 'The rule as set'), 400: problemContent('Invalid channel or rule'), ...v1Responses },
});

export const deleteCappingRule = createRoute({
  method: 'delete',
  path: '/v1/rules/capping/{channel}',
  tags,
  security,
  summary: "Delete a channel's global capping rule",
  request: { params: ChannelParams },
  responses: { 204: { description: 'Deleted' }, 400: problemContent('Invalid channel'), ...v1Responses, 404: problemContent('No rule for this channel') },
});
