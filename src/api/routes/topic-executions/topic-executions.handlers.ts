import type { RouteHandler } from '@hono/zod-openapi';
import { mayTriggerCampaign, OPEN_PRINCIPAL } from '../../../domain/api-key';
import { forbidden } from '../../../domain/errors';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { acceptTopicTrigger } from '../../../services/topic-execution-intake';
import { markReplay } from '../../idempotency-replay';
import type * as routes from './topic-executions.routes';

export function topicExecutionHandlers(deps: ServiceDependencies) {
  const trigger: RouteHandler<typeof routes.triggerTopic> = async (c) => {
    const body = c.req.valid('json');
    const { principal } = c.var;
    // Before the campaign is looked up, so a limited key learns nothing about other campaigns.
    if (!mayTriggerCampaign(principal, body.campaignId)) throw forbidden(`This API key may not trigger campaign ${body.campaignId}.`);
    const startedByKeyId = principal.keyId === OPEN_PRINCIPAL.keyId ? undefined : principal.keyId;
    const { replayed, ...accepted } = await acceptTopicTrigger(deps, body, { ...(startedByKeyId && { startedByKeyId }) });
    markReplay(c, replayed);
    return c.json(accepted, 202);
  };

  return { trigger };
}
