import { WorkflowNotFoundError } from '@temporalio/client';
import { ulid } from '../ids/ulid-factory';
import { postWebhook } from '../channels/webhooks/post-webhook';
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret } from '../channels/webhooks/webhook-secret';
import { DomainError, invalidRequest, notFound } from '../domain/errors';
import { testMessage } from '../domain/feedback-webhook';
import { webhookUrlProblem } from '../domain/webhook-target';
import { AuditLogRepository } from '../repositories/audit-log';
import { forgetEndpointCheck, type FeedbackEventType } from '../repositories/feedback-events';
import { MAX_WEBHOOK_ENDPOINTS, WebhookEndpointRepository, type WebhookEndpoint } from '../repositories/webhook-endpoints';
import { withCallDeadline } from '../temporal-client/connection';
import { webhookDispatcher } from '../../workflows/webhook-dispatcher';
import { webhookDispatcherWorkflowId } from '../../workflows/workflow-ids';
import type { ServiceDependencies } from './service-dependencies';

export interface WebhookEndpointRequest {
  url: string;
  events: FeedbackEventType[];
  campaignIds?: string[] | null;
}

export interface WebhookEndpointPatch {
  url?: string;
  events?: FeedbackEventType[];
  campaignIds?: string[] | null;
  enabled?: boolean;
}

export interface WebhookTestResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

function checkUrl(deps: ServiceDependencies, url: string): void {
  const problem = webhookUrlProblem(url, deps.config.webhooks.allowPrivate);
  if (problem) throw invalidRequest([{ field: 'url', message: `the URL ${problem}` }], `The webhook URL ${problem}.`);
}

/** The audit snapshot: the endpoint as the API shows it (never the secret). */
const snapshot = (endpoint: WebhookEndpoint) => ({ ...endpoint });

async function startDispatcher(deps: ServiceDependencies, endpointId: string): Promise<void> {
  const { pollMs, retryInitialMs } = deps.config.webhooks;
  await withCallDeadline(deps.temporal, () =>
    deps.temporal.workflow.start(webhookDispatcher, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: webhookDispatcherWorkflowId(endpointId),
      args: [{ endpointId, pollMs, retryInitialMs }],
      // A dispatcher of the same endpoint may still be ending (it saw the endpoint disabled): replace it; the cursor is in the database.
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      staticSummary: `Feedback webhook ${endpointId}`,
    }),
  );
}

async function stopDispatcher(deps: ServiceDependencies, endpointId: string, reason: string): Promise<void> {
  try {
    await withCallDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(webhookDispatcherWorkflowId(endpointId)).terminate(reason));
  } catch (error) {
    // Already ended: what a delete or disable wants. Anything else: the dispatcher ends by itself at its next poll.
    if (!(error instanceof WorkflowNotFoundError) && !(error instanceof Error && /already completed|not found/i.test(error.message))) throw error;
  }
}

/**
 * Creates an endpoint and starts its dispatcher. The signing secret is answered here, once; it
 * is stored sealed with the first payload key, so webhooks need HERALD_PAYLOAD_KEYS.
 */
export async function createWebhookEndpoint(
  deps: ServiceDependencies,
  request: WebhookEndpointRequest,
  actorKeyId: string,
): Promise<WebhookEndpoint & { secret: string }> {
  checkUrl(deps, request.url);
  const keys = deps.config.payloadKeys;
  if (!keys || keys.length === 0) {
    throw new DomainError(
      'conflict',
      'webhook-secrets-need-payload-key',
      'No key to store webhook secrets with',
      'Webhook signing secrets are stored encrypted with the first payload key, and HERALD_PAYLOAD_KEYS is not set. Set it for the API and the worker (`npm start` generates one; else `HERALD_PAYLOAD_KEYS=key-1:$(openssl rand -base64 32)`) and restart.',
    );
  }
  const endpoints = new WebhookEndpointRepository(deps.db);
  if ((await endpoints.count()) >= MAX_WEBHOOK_ENDPOINTS) {
    throw new DomainError(
      'conflict',
      'too-many-webhooks',
      'Too many webhook endpoints',
      `A deployment keeps at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first.`,
    );
  }
  const secret = newWebhookSecret();
  const id = `wh_${ulid()}`;
  const created = await deps.db.transaction().execute(async (trx) => {
    const endpoint = await new WebhookEndpointRepository(trx).create({
      id,
      url: request.url,
      events: [...new Set(request.events)],
      campaignIds: request.campaignIds ?? null,
      sealedSecret: sealWebhookSecret(secret, keys),
    });
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'webhook_endpoint.created',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      after: snapshot(endpoint),
    });
    return endpoint;
  });
  forgetEndpointCheck();
  try {
    await startDispatcher(deps, id);
  } catch (error) {
    // No dispatcher, no endpoint: the caller retries the creation (and gets a new secret).
    await new WebhookEndpointRepository(deps.db).delete(id);
    throw error;
  }
  return { ...created, secret };
}

export async function updateWebhookEndpoint(deps: ServiceDependencies, id: string, patch: WebhookEndpointPatch, actorKeyId: string): Promise<WebhookEndpoint> {
  if (patch.url !== undefined) checkUrl(deps, patch.url);
  const { before, after } = await deps.db.transaction().execute(async (trx) => {
    const endpoints = new WebhookEndpointRepository(trx);
    const before = await endpoints.get(id);
    if (!before) throw notFound(`Webhook endpoint ${id}`);
    const after = (await endpoints.update(id, { ...patch, ...(patch.events && { events: [...new Set(patch.events)] }) }))!;
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'webhook_endpoint.updated',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      before: snapshot(before),
      after: snapshot(after),
    });
    return { before, after };
  });
  forgetEndpointCheck();
  // `enabled: true` (re)starts the dispatcher even on an enabled endpoint: the repair when a start was lost.
  if (patch.enabled === true) await startDispatcher(deps, id);
  if (patch.enabled === false && before.status === 'enabled') await stopDispatcher(deps, id, 'webhook endpoint disabled over the API');
  return after;
}

export async function deleteWebhookEndpoint(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const endpoints = new WebhookEndpointRepository(trx);
    const before = await endpoints.get(id);
    if (!before) throw notFound(`Webhook endpoint ${id}`);
    await endpoints.delete(id);
    await new AuditLogRepository(trx).record({
      actorKeyId,
      action: 'webhook_endpoint.deleted',
      resourceType: 'webhook_endpoint',
      resourceId: id,
      before: snapshot(before),
    });
  });
  forgetEndpointCheck();
  await stopDispatcher(deps, id, 'webhook endpoint deleted');
}

/** Sends a `message.test` event now, from the API, and answers what the endpoint said (recorded as an attempt). */
export async function testWebhookEndpoint(deps: ServiceDependencies, id: string): Promise<WebhookTestResult> {
  const endpoints = new WebhookEndpointRepository(deps.db);
  const endpoint = await endpoints.forDelivery(id);
  if (!endpoint) throw notFound(`Webhook endpoint ${id}`);
  if (!deps.config.payloadKeys)
    throw new DomainError(
      'conflict',
      'webhook-secrets-need-payload-key',
      'No key to read webhook secrets with',
      'HERALD_PAYLOAD_KEYS is not set for the API; set the key the secret was stored with.',
    );
  const secret = openWebhookSecret(endpoint.sealedSecret, deps.config.payloadKeys);
  const messageId = `msg_${id}_test_${ulid()}`;
  const answer = await postWebhook({
    url: endpoint.url,
    secret,
    messageId,
    body: JSON.stringify(testMessage(id, new Date())),
    timeoutMs: deps.config.webhooks.timeoutMs,
    allowPrivate: deps.config.webhooks.allowPrivate,
  });
  await endpoints.recordAttempt({ endpointId: id, messageId, eventIds: [], statusCode: answer.statusCode, error: answer.error, durationMs: answer.durationMs });
  return answer;
}
