import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { cappingRuleHandlers } from './capping-rules.handlers';
import * as routes from './capping-rules.routes';

export function cappingRulesRouter(deps: ServiceDependencies) {
  const handlers = cappingRuleHandlers(deps);
  return createRouter()
    .openapi(routes.listCappingRules, handlers.list)
    .openapi(routes.putCappingRule, handlers.put)
    .openapi(routes.deleteCappingRule, handlers.remove);
}
