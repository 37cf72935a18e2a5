/**
 * High-throughput campaigns (issue 23, ADR 0010) against a real Herald: the review's refusals,
 * the accept path (committed to the queue, idempotent, no workflow per trigger).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { HIGH_THROUGHPUT_PARTITIONS } from '../../src/domain/high-throughput';
import { executionWorkflowId, highThroughputDispatcherId } from '../../workflows/workflow-ids';
import { startHerald, type Herald } from '../support/herald-harness';
import { uniqueRequestId } from '../support/campaigns';

const highThroughputCampaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'Receipt',
  type: 'transactional',
  channel: 'email',
  throughput: 'high',
  content: { subject: 'Order {{ context.orderId }}', html: '<p>Thanks for order {{ context.orderId }}</p>', text: 'Order {{ context.orderId }}' },
  audience: { namespace: 'email', createMissingProfiles: false },
  ...overrides,
});

async function activate(herald: Herald, body: Record<string, unknown>) {
  const created = await herald.request('POST', '/v1/campaigns', body);
  expect(created.status).toBe(201);
  return { created: created.body, activated: await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`) };
}

const trigger = (campaignId: string, requestId: string, userId: string, orderId: string) => ({
  requestId,
  campaignId,
  recipients: [{ userId, namespace: 'email' }],
  context: { orderId },
});

describe('high-throughput campaigns: contract and accept path (no worker)', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('creates with throughput high (standard by default)', async () => {
    const standard = await herald.request('POST', '/v1/campaigns', highThroughputCampaign({ throughput: undefined }));
    expect(standard.body.throughput).toBe('standard');
    const high = await herald.request('POST', '/v1/campaigns', highThroughputCampaign());
    expect(high.body.throughput).toBe('high');
    const wrong = await herald.request('POST', '/v1/campaigns', highThroughputCampaign({ throughput: 'fast' }));
    expect(wrong.status).toBe(400);
  });

  it('refuses activation with 422, listing every problem', async () => {
    const { activated } = await activate(
      herald,
      highThroughputCampaign({
        type: 'marketing',
        content: { subject: 'Hi {{ profile.firstName }}', html: '<p>{{ profile.city }} {{ context.orderId }}</p>' },
        quietHours: { from: '22:00', to: '07:00', action: 'defer' },
        capping: { max: 1, periodHours: 24 },
      }),
    );
    expect(activated.status).toBe(422);
    const fields = (activated.body.errors as { field: string; message: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['type', 'capping', 'quietHours', 'content.subject', 'content.html']));
    const messages = JSON.stringify(activated.body.errors);
    expect(messages).toContain('profile.firstName');
    expect(messages).toContain('profile.city');
  });

  it('commits the trigger to the queue and answers 202; a repeat answers the first; no workflow is started for it', async () => {
    const { activated } = await activate(herald, highThroughputCampaign());
    expect(activated.status).toBe(200);
    const campaignId = activated.body.id;
    const requestId = uniqueRequestId('ht');
    const body = trigger(campaignId, requestId, 'ann@example.com', 'A-1');
    const first = await herald.request('POST', '/v1/executions/unitary', body);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ executionId: expect.any(String), requestId, campaignId });
    expect(first.headers.get('idempotency-replay')).toBeNull();
    const { executionId } = first.body;

    const queued = await herald.db.selectFrom('ht_triggers').selectAll().where('execution_id', '=', executionId).executeTakeFirst();
    expect(queued).toMatchObject({ execution_id: executionId, batch_id: null });
    expect(queued!.dispatch_partition).toBeLessThan(HIGH_THROUGHPUT_PARTITIONS);

    const repeat = await herald.request('POST', '/v1/executions/unitary', body);
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('idempotency-replay')).toBe('true');
    const conflict = await herald.request('POST', '/v1/executions/unitary', trigger(campaignId, requestId, 'ann@example.com', 'A-2'));
    expect(conflict.status).toBe(409);
    expect(await herald.db.selectFrom('ht_triggers').select('execution_id').where('execution_id', '=', executionId).execute()).toHaveLength(1);

    // No per-trigger workflow: the execution names its partition's dispatcher.
    await expect(herald.client.workflow.getHandle(executionWorkflowId(campaignId, requestId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const status = await herald.request('GET', `/v1/executions/${executionId}`);
    expect(status.body).toMatchObject({ status: 'running', counts: { pending: 1, sent: 0 }, recipients: [{ userId: 'ann@example.com', status: 'pending' }] });
    const row = await herald.db.selectFrom('executions').select('workflow_id').where('id', '=', executionId).executeTakeFirstOrThrow();
    expect(row.workflow_id).toBe(highThroughputDispatcherId(herald.config.temporal.taskQueue, queued!.dispatch_partition));
  });
});
