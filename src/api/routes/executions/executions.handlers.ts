import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem } from '../../problem';
import { acceptUnitaryTrigger } from '../../../services/execution-intake';
import { mayTriggerCampaign, OPEN_PRINCIPAL } from '../../../domain/api-key';
import { forbidden } from '../../../domain/errors';
import { listExecutions } from '../../../services/execution-listing';
import { cancelByKey } from '../../../services/execution-cancellation';
import { markReplay } from '../../idempotency-replay';
import type * as routes from './executions.routes';

export function executionHandlers(deps: ServiceDependencies) {
  const trigger: RouteHandler<typeof routes.triggerUnitary> = async (c) => {
    const { type: _type, ...body } = { type: undefined, ...c.req.valid('json') };
    const { principal } = c.var;
    // Before the campaign is looked up, so a limited key learns nothing about other campaigns.
    if (!mayTriggerCampaign(principal, body.campaignId)) throw forbidden(`This API key may not trigger campaign ${body.campaignId}.`);
    const recipients = body.recipients.map(({ type: _t, ...recipient }) => recipient);
    const startedByKeyId = principal.keyId === OPEN_PRINCIPAL.keyId ? undefined : principal.keyId;
    const { replayed, ...accepted } = await acceptUnitaryTrigger(deps, { ...body, recipients }, { startedByKeyId });
    markReplay(c, replayed);
    return c.json(accepted, 202);
  };

  const get: RouteHandler<typeof routes.getExecution> = async (c) => {
    const { executionId } = c.req.valid('param');
    const { principal } = c.var;
    // A trigger key reads only what it started; 403 also for unknown ids, so it cannot probe for others.
    if (principal.scope !== 'full' && (await deps.executions.startedByKeyId(executionId)) !== principal.keyId) {
      throw forbidden('A trigger key may read only the executions it started.');
    }
    const execution = await deps.executions.get(executionId);
    if (!execution) throw notFoundProblem(`Execution ${executionId}`);
    return c.json(execution, 200);
  };

  const list: RouteHandler<typeof routes.listExecutions> = async (c) => c.json(await listExecutions(deps, c.var.principal, c.req.valid('query')), 200);

  const recipients: RouteHandler<typeof routes.listRecipients> = async (c) => {
    const { executionId } = c.req.valid('param');
    const { after, limit } = c.req.valid('query');
    const page = await deps.executions.recipientsPage(executionId, after, limit);
    if (!page) throw notFoundProblem(`Execution ${executionId}`);
    return c.json(page, 200);
  };

  const cancel: RouteHandler<typeof routes.cancelExecutions> = async (c) => {
    const body = c.req.valid('json');
    if (!mayTriggerCampaign(c.var.principal, body.campaignId)) throw forbidden(`This API key may not cancel runs of campaign ${body.campaignId}.`);
    return c.json(await cancelByKey(deps, body), 200);
  };

  return { trigger, get, list, recipients, cancel };
}
