import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { webhookHandlers } from './webhooks.handlers';
import * as routes from './webhooks.routes';

export function webhooksRouter(deps: ServiceDependencies) {
  const handlers = webhookHandlers(deps);
  return createRouter()
    .openapi(routes.createWebhook, handlers.create)
    .openapi(routes.listWebhooks, handlers.list)
    .openapi(routes.getWebhook, handlers.get)
    .openapi(routes.patchWebhook, handlers.patch)
    .openapi(routes.deleteWebhook, handlers.remove)
    .openapi(routes.testWebhook, handlers.test)
    .openapi(routes.listWebhookAttempts, handlers.attempts);
}
