import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { apiKeyHandlers } from './api-keys.handlers';
import * as routes from './api-keys.routes';

export function apiKeysRouter(deps: ServiceDependencies) {
  const handlers = apiKeyHandlers(deps);
  return createRouter().openapi(routes.createApiKey, handlers.create).openapi(routes.listApiKeys, handlers.list).openapi(routes.revokeApiKey, handlers.revoke);
}
