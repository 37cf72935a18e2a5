import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem } from '../../problem';
import { acceptUnitaryTrigger } from '../../../services/execution-intake';
import type * as routes from './executions.routes';

export function executionHandlers(deps: ServiceDependencies) {
  const trigger: RouteHandler<typeof routes.triggerUnitary> = async (c) => {
    const { type: _type, ...body } = { type: undefined, ...c.req.valid('json') };
    const recipients = body.recipients.map(({ type: _t, ...recipient }) => recipient);
    return c.json(await acceptUnitaryTrigger(deps, { ...body, recipients }), 202);
  };

  const get: RouteHandler<typeof routes.getExecution> = async (c) => {
    const { executionId } = c.req.valid('param');
    const execution = await deps.executions.get(executionId);
    if (!execution) throw notFoundProblem(`Execution ${executionId}`);
    return c.json(execution, 200);
  };

  return { trigger, get };
}
