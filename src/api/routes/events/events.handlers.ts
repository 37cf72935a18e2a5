import type { RouteHandler } from '@hono/zod-openapi';
import { receiveEvent } from '../../../services/event-intake';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './events.routes';

export function eventHandlers(deps: ServiceDependencies) {
  const receive: RouteHandler<typeof routes.receiveEvent> = async (c) => c.json(await receiveEvent(deps, c.var.principal, c.req.valid('json')), 202);
  return { receive };
}
