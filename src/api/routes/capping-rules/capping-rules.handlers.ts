import type { RouteHandler } from '@hono/zod-openapi';
import { deleteCappingRule, listCappingRules, putCappingRule } from '../../../services/capping-rules';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './capping-rules.routes';

export function cappingRuleHandlers(deps: ServiceDependencies) {
  const list: RouteHandler<typeof routes.listCappingRules> = async (c) => c.json({ items: await listCappingRules(deps) }, 200);

  const put: RouteHandler<typeof routes.putCappingRule> = async (c) =>
    c.json(await putCappingRule(deps, c.req.valid('param').channel, c.req.valid('json'), c.var.principal.keyId), 200);

  const remove: RouteHandler<typeof routes.deleteCappingRule> = async (c) => {
    await deleteCappingRule(deps, c.req.valid('param').channel, c.var.principal.keyId);
    return c.body(null, 204);
  };

  return { list, put, remove };
}
