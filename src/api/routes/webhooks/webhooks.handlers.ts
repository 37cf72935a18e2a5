import type { RouteHandler } from '@hono/zod-openapi';
import { WebhookEndpointRepository } from '../../../repositories/webhook-endpoints';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createWebhookEndpoint, deleteWebhookEndpoint, testWebhookEndpoint, updateWebhookEndpoint } from '../../../services/webhooks';
import { notFoundProblem } from '../../problem';
import type * as routes from './webhooks.routes';

export function webhookHandlers(deps: ServiceDependencies) {
  const endpoints = new WebhookEndpointRepository(deps.db);

  const create: RouteHandler<typeof routes.createWebhook> = async (c) =>
    c.json(await createWebhookEndpoint(deps, c.req.valid('json'), c.var.principal.keyId), 201);

  const list: RouteHandler<typeof routes.listWebhooks> = async (c) => c.json({ items: await endpoints.list() }, 200);

  const get: RouteHandler<typeof routes.getWebhook> = async (c) => {
    const { id } = c.req.valid('param');
    const endpoint = await endpoints.get(id);
    if (!endpoint) throw notFoundProblem(`Webhook endpoint ${id}`);
    return c.json(endpoint, 200);
  };

  const patch: RouteHandler<typeof routes.patchWebhook> = async (c) =>
    c.json(await updateWebhookEndpoint(deps, c.req.valid('param').id, c.req.valid('json'), c.var.principal.keyId), 200);

  const remove: RouteHandler<typeof routes.deleteWebhook> = async (c) => {
    await deleteWebhookEndpoint(deps, c.req.valid('param').id, c.var.principal.keyId);
    return c.body(null, 204);
  };

  const test: RouteHandler<typeof routes.testWebhook> = async (c) => c.json(await testWebhookEndpoint(deps, c.req.valid('param').id), 200);

  const attempts: RouteHandler<typeof routes.listWebhookAttempts> = async (c) => {
    const { id } = c.req.valid('param');
    if (!(await endpoints.get(id))) throw notFoundProblem(`Webhook endpoint ${id}`);
    return c.json({ items: await endpoints.attempts(id, c.req.valid('query').limit) }, 200);
  };

  return { create, list, get, patch, remove, test, attempts };
}
