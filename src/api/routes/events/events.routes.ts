import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { jsonObject, safeText } from '../../schemas/safe-text';
import { EventNameSchema } from '../../schemas/campaign-steps';

export const EventSchema = z
  .object({
    name: EventNameSchema.openapi({ description: 'The event a waitForEvent step waits for (its `event`).', example: 'order.paid' }),
    namespace: safeText(1, 255).openapi({ example: 'email' }),
    userId: safeText(1, 255).openapi({ example: 'ada@example.com' }),
    data: jsonObject()
      .optional()
      .openapi({ description: "With a step's `match` (e.g. orderId), the event reaches only runs whose trigger context has the same value there." }),
    eventId: safeText(1, 128)
      .optional()
      .openapi({ description: 'Idempotency key: a repeat answers the first call and reaches no run again.', example: 'evt-4711' }),
  })
  .strict()
  .openapi('Event');

export const receiveEvent = createRoute({
  method: 'post',
  path: '/v1/events',
  tags: ['Events'],
  // A trigger key reaches only the runs of the campaigns it may trigger.
  security: allowKeys('full', 'trigger'),
  summary: 'Send an event to the runs waiting for it',
  description:
    'Runs of campaigns with a waitForEvent step for this event and recipient (namespace and userId) continue or stop as the step says. An event that arrives while no run waits for it matches nothing and is not kept.',
  request: { body: { required: true, content: { 'application/json': { schema: EventSchema } } } },
  responses: {
    202: {
      description: 'Accepted; `matched` counts the waiting recipients it reached.',
      content: { 'application/json': { schema: z.object({ matched: z.number().int() }).openapi('EventAccepted') } },
    },
    400: problemContent('Schema violation'),
    ...v1Responses,
    413: problemContent('Body too large'),
  },
});
