import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { issueSubscriberToken } from '../../../services/subscriber-tokens';
import type * as routes from './inbox-tokens.routes';

export function inboxTokenHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createSubscriberToken> = async (c) =>
    c.json(await issueSubscriberToken(deps, c.var.principal, c.req.valid('json')), 201);

  return { create };
}
