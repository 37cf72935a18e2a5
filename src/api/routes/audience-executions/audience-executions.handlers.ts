import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { acceptAudienceTrigger, cancelAudienceSchedule, getAudienceSchedule } from '../../../services/audience-execution-intake';
import { OPEN_PRINCIPAL } from '../../../domain/api-key';
import { markReplay } from '../../idempotency-replay';
import type * as routes from './audience-executions.routes';

export function audienceExecutionHandlers(deps: ServiceDependencies) {
  const trigger: RouteHandler<typeof routes.triggerAudience> = async (c) => {
    const body = c.req.valid('json');
    const { principal } = c.var;
    const startedByKeyId = principal.keyId === OPEN_PRINCIPAL.keyId ? undefined : principal.keyId;
    const accepted = await acceptAudienceTrigger(
      deps,
      {
        ...(body.requestId !== undefined && { requestId: body.requestId }),
        campaignId: body.campaignId,
        audienceId: body.audience.id,
        ...(body.context && { context: body.context }),
        ...(body.throttle && { throttlePerSecond: body.throttle.messagesPerSecond }),
        ...(body.schedule && { executeAt: body.schedule.executeAt }),
      },
      { ...(startedByKeyId && { startedByKeyId }) },
    );
    markReplay(c, accepted.replayed);
    if (accepted.kind === 'scheduled') return c.json({ scheduleId: accepted.scheduleId, executeAt: accepted.executeAt, status: accepted.status }, 202);
    return c.json({ executionId: accepted.executionId, requestId: accepted.requestId, campaignId: accepted.campaignId }, 202);
  };

  const getSchedule: RouteHandler<typeof routes.getSchedule> = async (c) => c.json(await getAudienceSchedule(deps, c.req.valid('param').scheduleId), 200);

  const cancelSchedule: RouteHandler<typeof routes.cancelSchedule> = async (c) =>
    c.json(await cancelAudienceSchedule(deps, c.req.valid('param').scheduleId), 200);

  return { trigger, getSchedule, cancelSchedule };
}
