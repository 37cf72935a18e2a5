/**
 * High-throughput campaigns (issue 23, ADR 0010) against a real Herald: the review's refusals,
 * the accept path (committed to the queue, idempotent, no workflow per trigger) and the dispatch
 * (every trigger sent exactly once through the fake Resend's batch endpoint, its status read back
 * through GET /v1/executions/{id}).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { highThroughputDispatchActivities } from '../../activities/high-throughput-dispatch';
import type { EmailMessage, EmailProvider } from '../../src/channels/email/email-provider';
import { ProviderUnavailableError } from '../../src/channels/provider-errors';
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS, partitionOf } from '../../src/domain/high-throughput';
import { createTemplateRenderer } from '../../src/rendering/template-renderer';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { DeliveryRepository } from '../../src/repositories/deliveries';
import { HighThroughputQueue } from '../../src/repositories/high-throughput-queue';
import { executionWorkflowId, highThroughputDispatcherId } from '../../workflows/workflow-ids';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';
import { listenOnLoopback, readBody } from '../support/loopback-server';
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
    expect(queued!.dispatch_partition).toBeLessThan(DEFAULT_HIGH_THROUGHPUT_PARTITIONS);

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
    // Activation started the dispatchers (they wait for a worker here).
    const dispatcher = await herald.client.workflow.getHandle(row.workflow_id).describe();
    expect(dispatcher.status.name).toBe('RUNNING');
  });
});

/** requestIds that all fall in one partition, so one dispatcher's batch holds them. */
function requestIdsIn(partition: number, count: number, label: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    const id = uniqueRequestId(`${label}${i}`);
    if (partitionOf(id, DEFAULT_HIGH_THROUGHPUT_PARTITIONS) === partition) ids.push(id);
  }
  return ids;
}

describe('high-throughput campaigns: one batch, by the activity itself', () => {
  let herald: Herald;
  let renderer: ReturnType<typeof createTemplateRenderer>;
  /** Every sendBatch call: its key and addresses. `loseNext` accepts the next call and then throws, as a lost answer. */
  const calls: { key: string; to: string[] }[] = [];
  /** The subject of every message sent in a batch. */
  const subjects: string[] = [];
  let loseNext = false;
  const provider: EmailProvider = {
    name: 'recording',
    async send(message: EmailMessage) {
      return { messageId: `single-${message.to}` };
    },
    async sendBatch(messages, key) {
      calls.push({ key, to: messages.map((m) => m.to) });
      subjects.push(...messages.map((m) => m.subject));
      if (loseNext) {
        loseNext = false;
        throw new ProviderUnavailableError('answer lost');
      }
      return { messageIds: messages.map((m) => `${key}:${m.to}`) };
    },
  };
  let dispatch: (partition: number) => Promise<Awaited<ReturnType<ReturnType<typeof highThroughputDispatchActivities>['dispatchHighThroughputBatch']>>>;
  let activities: ReturnType<typeof highThroughputDispatchActivities>;
  let dispatchDeps: Parameters<typeof highThroughputDispatchActivities>[0];
  /** Runs after each claim of the queue the activities use, with what the claim found. */
  let afterClaim: ((found: number) => Promise<void>) | undefined;

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
    renderer = createTemplateRenderer(herald.config.render);
    class ObservedQueue extends HighThroughputQueue {
      override async claim(...args: Parameters<HighThroughputQueue['claim']>) {
        const claimed = await super.claim(...args);
        await afterClaim?.(claimed?.executionIds.length ?? 0);
        return claimed;
      }
    }
    dispatchDeps = {
      queue: new ObservedQueue(herald.db),
      campaigns: new CampaignRepository(herald.db),
      deliveries: new DeliveryRepository(herald.db),
      renderer,
      emailSenderFor: async () => ({ provider, from: 'Herald <herald@example.com>' }),
      sendPreparedNow: async () => {
        throw new Error('email only here');
      },
    };
    activities = highThroughputDispatchActivities(dispatchDeps);
    dispatch = (partition) => new MockActivityEnvironment().run(activities.dispatchHighThroughputBatch, { partition, limit: 200 });
  });
  afterAll(async () => {
    await renderer?.close();
    await herald?.stop();
  });

  async function accept(campaignId: string, requestIds: string[]) {
    const ids: string[] = [];
    for (const requestId of requestIds) {
      const response = await herald.request('POST', '/v1/executions/unitary', trigger(campaignId, requestId, `${requestId}@example.com`, requestId));
      expect(response.status).toBe(202);
      ids.push(response.body.executionId);
    }
    return ids;
  }

  it('resumes a batch whose answer was lost with the same blocks and key, before it claims anything new', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Resume' }));
    const partition = 3;
    const first = await accept(activated.body.id, requestIdsIn(partition, 3, 'resume'));
    calls.length = 0;
    loseNext = true;
    await expect(dispatch(partition)).rejects.toThrow();
    // A trigger queued meanwhile is not part of the batch being finished.
    const later = await accept(activated.body.id, requestIdsIn(partition, 1, 'later'));
    const resumed = await dispatch(partition);
    expect(resumed).toMatchObject({ triggers: 3, sent: 3, failed: 0, resumed: true });
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]);
    const next = await dispatch(partition);
    expect(next).toMatchObject({ triggers: 1, sent: 1 });
    expect(next.batchId).not.toBe(resumed.batchId);
    for (const executionId of [...first, ...later]) {
      const { body } = await herald.request('GET', `/v1/executions/${executionId}`);
      expect(body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    }
    expect(await dispatch(partition)).toEqual({ triggers: 0, sent: 0, failed: 0 });
  });

  it('drains a partition in one session, batch after batch, heartbeating its totals; the time limit ends a session with more waiting', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Session' }));
    const partition = 1;
    const executionIds = await accept(activated.body.id, requestIdsIn(partition, 5, 'session'));
    calls.length = 0;
    const environment = new MockActivityEnvironment();
    const beats: unknown[] = [];
    environment.on('heartbeat', (details: unknown) => beats.push(structuredClone(details)));
    const session = await environment.run(activities.drainHighThroughputPartition, { partition, batchSize: 2, lingerMs: 0, sessionMs: 60_000 });
    expect(session).toEqual({ batches: 3, triggers: 5, sent: 5, failed: 0, more: false });
    expect(calls.map((c) => c.to.length)).toEqual([2, 2, 1]);
    expect(beats.at(-1)).toEqual({ batches: 3, triggers: 5, sent: 5, failed: 0 });
    for (const executionId of executionIds) {
      expect((await herald.request('GET', `/v1/executions/${executionId}`)).body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    }
    // Each delivery records the provider's id of its message (one update per block).
    const delivered = await herald.db.selectFrom('deliveries').select(['message_id', 'address']).where('execution_id', 'in', executionIds).execute();
    expect(delivered.map((d) => d.message_id?.endsWith(`:${d.address}`)).filter(Boolean)).toHaveLength(5);

    await accept(activated.body.id, requestIdsIn(partition, 3, 'session-limit'));
    const limited = await new MockActivityEnvironment().run(activities.drainHighThroughputPartition, { partition, batchSize: 2, lingerMs: 0, sessionMs: 0 });
    expect(limited).toEqual({ batches: 1, triggers: 2, sent: 2, failed: 0, more: true });
    expect(await dispatch(partition)).toMatchObject({ triggers: 1, sent: 1 });
  });

  it('does not end a session on an empty claim made right after a full batch: a trigger queued then is sent in the same session', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Session end' }));
    const partition = 2;
    await accept(activated.body.id, requestIdsIn(partition, 2, 'session-end'));
    const claims: number[] = [];
    let late: string[] = [];
    afterClaim = async (found) => {
      claims.push(found);
      // The claim after the full batch finds nothing: a trigger is committed right after it, as the
      // API would without a nudge (it committed the full batch's triggers less than the linger before).
      if (claims.length === 2) late = await accept(activated.body.id, requestIdsIn(partition, 1, 'session-end-late'));
    };
    try {
      // A linger long enough that nothing between the full batch and the next claim (no await there) outlasts it on a loaded machine.
      const session = await new MockActivityEnvironment().run(activities.drainHighThroughputPartition, {
        partition,
        batchSize: 2,
        lingerMs: 200,
        sessionMs: 60_000,
      });
      // Full batch, empty claim (too soon to end), the late trigger after the linger, then the claim that ends it.
      expect(claims).toEqual([2, 0, 1, 0]);
      expect(session).toEqual({ batches: 2, triggers: 3, sent: 3, failed: 0, more: false });
      expect((await herald.request('GET', `/v1/executions/${late[0]}`)).body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    } finally {
      afterClaim = undefined;
    }
  });

  it("past the worker's count, claims again after the linger before it says retire: a trigger committed right after an empty first claim is sent", async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Past the count' }));
    // Partition 3 of the API's 4, and past a worker's count of 2.
    const partition = 3;
    while ((await dispatch(partition)).triggers > 0);
    const pastTheCount = highThroughputDispatchActivities({ ...dispatchDeps, partitions: 2 });
    const run = () =>
      new MockActivityEnvironment().run(pastTheCount.drainHighThroughputPartition, { partition, batchSize: 2, lingerMs: 200, sessionMs: 60_000 });
    const claims: number[] = [];
    let late: string[] = [];
    afterClaim = async (found) => {
      claims.push(found);
      // The session's first claim finds nothing; a trigger is committed right after it and not
      // nudged (within the linger of one that a session before this one took).
      if (claims.length === 1) late = await accept(activated.body.id, requestIdsIn(partition, 1, 'past-count-late'));
    };
    try {
      expect(await run()).toEqual({ batches: 1, triggers: 1, sent: 1, failed: 0, more: false, retire: true });
      expect(claims).toEqual([0, 1, 0]);
      expect((await herald.request('GET', `/v1/executions/${late[0]}`)).body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
      // Drained: the next session says retire after its second empty claim.
      claims.length = 0;
      afterClaim = async (found) => {
        claims.push(found);
      };
      expect(await run()).toEqual({ batches: 0, triggers: 0, sent: 0, failed: 0, more: false, retire: true });
      expect(claims).toEqual([0, 0]);
      // Within the count, an empty session ends at once and never says retire.
      claims.length = 0;
      expect(
        await new MockActivityEnvironment().run(activities.drainHighThroughputPartition, { partition, batchSize: 2, lingerMs: 200, sessionMs: 60_000 }),
      ).toEqual({
        batches: 0,
        triggers: 0,
        sent: 0,
        failed: 0,
        more: false,
      });
      expect(claims).toEqual([0]);
    } finally {
      afterClaim = undefined;
    }
  });

  it('sends a queued trigger with the version it was accepted under, after another version went live', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Versions' }));
    const partition = 1;
    const [executionId] = await accept(activated.body.id, requestIdsIn(partition, 1, 'versions'));
    // What activating a second version leaves in the campaign's row (the activation workflow's update, not running here).
    await herald.db
      .updateTable('campaigns')
      .set({ version: 2, content: JSON.stringify({ ...activated.body.content, subject: 'Version 2 {{ context.orderId }}' }) })
      .where('id', '=', activated.body.id)
      .execute();
    subjects.length = 0;
    expect(await dispatch(partition)).toMatchObject({ triggers: 1, sent: 1, failed: 0 });
    expect(subjects).toEqual([expect.stringMatching(/^Order versions/)]);
    expect((await herald.request('GET', `/v1/executions/${executionId}`)).body).toMatchObject({ status: 'completed', campaignVersion: 1 });
  });

  it('fails, without sending, the queued triggers of a campaign stopped since their call', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Stopped' }));
    const partition = 2;
    const executionIds = await accept(activated.body.id, requestIdsIn(partition, 2, 'stopped'));
    expect((await herald.request('POST', `/v1/campaigns/${activated.body.id}/stop`)).status).toBe(200);
    calls.length = 0;
    expect(await dispatch(partition)).toMatchObject({ triggers: 2, sent: 0, failed: 2 });
    expect(calls).toEqual([]);
    for (const executionId of executionIds) {
      const { body } = await herald.request('GET', `/v1/executions/${executionId}`);
      expect(body).toMatchObject({ status: 'failed', reason: 'campaign-not-live', counts: { failed: 1, sent: 0 } });
    }
  });

  it('sends nothing to a person erased between the call and the dispatch', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Erased' }));
    const partition = 0;
    const [executionId] = await accept(activated.body.id, requestIdsIn(partition, 1, 'erased'));
    // What profile erasure does to a delivery it keeps for the counts.
    await herald.db
      .updateTable('deliveries')
      .set({ user_id: 'erased:0', context: null, channel_data: null })
      .where('execution_id', '=', executionId!)
      .execute();
    calls.length = 0;
    expect(await dispatch(partition)).toMatchObject({ triggers: 1, sent: 0, failed: 1 });
    expect(calls).toEqual([]);
    expect((await herald.request('GET', `/v1/executions/${executionId}`)).body).toMatchObject({
      status: 'completed',
      counts: { excluded: 1, sent: 0 },
      recipients: [{ userId: 'erased:0', status: 'excluded', reason: 'erased' }],
    });
  });

  it('fails a recipient without an address, and sends the others of the batch', async () => {
    const { activated } = await activate(
      herald,
      highThroughputCampaign({ name: 'No address', audience: { namespace: 'customers', createMissingProfiles: false } }),
    );
    const partition = 1;
    const [withAddress, without] = requestIdsIn(partition, 2, 'address');
    const ok = await herald.request('POST', '/v1/executions/unitary', {
      requestId: withAddress,
      campaignId: activated.body.id,
      recipients: [{ userId: 'c-1', namespace: 'customers', channelData: { emailAddress: 'c1@example.com' } }],
      context: { orderId: 'X' },
    });
    const missing = await herald.request('POST', '/v1/executions/unitary', {
      requestId: without,
      campaignId: activated.body.id,
      recipients: [{ userId: 'c-2', namespace: 'customers' }],
      context: { orderId: 'Y' },
    });
    calls.length = 0;
    expect(await dispatch(partition)).toMatchObject({ triggers: 2, sent: 1, failed: 1 });
    expect(calls.flatMap((c) => c.to)).toEqual(['c1@example.com']);
    expect((await herald.request('GET', `/v1/executions/${ok.body.executionId}`)).body).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    expect((await herald.request('GET', `/v1/executions/${missing.body.executionId}`)).body).toMatchObject({
      status: 'completed',
      counts: { failed: 1 },
      recipients: [{ userId: 'c-2', status: 'failed', reason: 'no-email-address' }],
    });
  });
});

describe('high-throughput campaigns: dispatch', () => {
  let herald: Herald;
  let fake: FakeResend;
  let twilio: FakeTwilio;
  beforeAll(async () => {
    [fake, twilio] = await Promise.all([startFakeResend(), startFakeTwilio()]);
    herald = await startHerald({
      env: {
        RESEND_API_KEY: fake.apiKey,
        RESEND_BASE_URL: fake.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15550000000',
        TWILIO_BASE_URL: twilio.url,
        HERALD_WEBHOOKS_ALLOW_PRIVATE: 'true',
        HERALD_WEBHOOK_POLL_MS: '200',
      },
    });
  });
  afterAll(async () => {
    // The dispatchers outlive the worker: end them with the test.
    for (let partition = 0; partition < DEFAULT_HIGH_THROUGHPUT_PARTITIONS; partition++) {
      await herald?.client.workflow
        .getHandle(highThroughputDispatcherId(herald.config.temporal.taskQueue, partition))
        .terminate('test over')
        .catch(() => undefined);
    }
    await herald?.stop();
    await fake?.close();
    await twilio?.close();
  });

  it('sends 200 triggers exactly once, in batches through /emails/batch, each execution completed with its message id', async () => {
    const { activated } = await activate(herald, highThroughputCampaign());
    expect(activated.status).toBe(200);
    const campaignId = activated.body.id;
    const count = 200;
    const accepted = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const response = await herald.request(
          'POST',
          '/v1/executions/unitary',
          trigger(campaignId, uniqueRequestId(`ht${i}`), `user${i}@example.com`, `O-${i}`),
        );
        expect(response.status).toBe(202);
        return response.body.executionId as string;
      }),
    );
    // One after the other: 200 pollers at once would meet the API's rate limit.
    const finished = [];
    for (const executionId of accepted) finished.push(await herald.waitForExecution(executionId, 120_000));
    for (const [i, execution] of finished.entries()) {
      expect(execution).toMatchObject({ status: 'completed', counts: { sent: 1, failed: 0, excluded: 0, pending: 0 } });
      expect(execution.recipients).toEqual([expect.objectContaining({ userId: `user${i}@example.com`, status: 'sent', messageId: expect.any(String) })]);
    }
    // Exactly once per recipient, all through the batch endpoint, rendered from the call's context.
    const byRecipient = fake.deliveriesByRecipient();
    expect(Object.keys(byRecipient)).toHaveLength(count);
    for (let i = 0; i < count; i++) expect(byRecipient[`user${i}@example.com`]).toBe(1);
    expect(fake.deliveries.every((d) => d.batchIndex !== undefined)).toBe(true);
    expect(fake.deliveriesTo('user7@example.com')[0]!.subject).toBe('Order O-7');
    expect(fake.requests.filter((r) => r.path === '/emails').length).toBe(0);
    // The queue is empty once all is sent.
    expect(await herald.db.selectFrom('ht_triggers').select('execution_id').execute()).toEqual([]);
    // The API nudged the dispatchers (fire and forget) rather than leaving them to their idle timer.
    const executionRow = await herald.db.selectFrom('executions').select('workflow_id').where('id', '=', accepted[0]!).executeTakeFirstOrThrow();
    const history = await herald.client.workflow.getHandle(executionRow.workflow_id).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'nudge')).toBe(true);
    // The listing shows them like any other.
    const listing = await herald.request('GET', `/v1/executions?campaignId=${campaignId}&limit=500`);
    expect(listing.body.items).toHaveLength(count);
  }, 180_000);

  it('sends exactly once when the provider took a block but its answer was lost: the retried batch repeats it under the same key', async () => {
    const { activated } = await activate(herald, highThroughputCampaign({ name: 'Lost answer' }));
    const campaignId = activated.body.id;
    fake.reset();
    // The next batch request is accepted and remembered, then the connection drops: the activity fails and is retried.
    fake.failNext([{ acceptThenDrop: true }]);
    const count = 30;
    const accepted = [];
    for (let i = 0; i < count; i++) {
      const response = await herald.request(
        'POST',
        '/v1/executions/unitary',
        trigger(campaignId, uniqueRequestId(`lost${i}`), `lost${i}@example.com`, `L-${i}`),
      );
      expect(response.status).toBe(202);
      accepted.push(response.body.executionId as string);
    }
    for (const executionId of accepted) expect(await herald.waitForExecution(executionId, 120_000)).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    const byRecipient = fake.deliveriesByRecipient();
    for (let i = 0; i < count; i++) expect(byRecipient[`lost${i}@example.com`]).toBe(1);
    // The dropped request was repeated with its key, and the fake answered it from the key.
    const dropped = fake.requests.find((r) => r.status === 0);
    expect(dropped?.idempotencyKey).toBeDefined();
    expect(fake.requestsFor(dropped!.idempotencyKey!).length).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('sends SMS one by one, exactly once each, to the userId of the phone namespace', async () => {
    const { activated } = await activate(
      herald,
      highThroughputCampaign({
        name: 'Codes',
        channel: 'sms',
        content: { body: 'Your code is {{ context.orderId }}' },
        audience: { namespace: 'phone', createMissingProfiles: false },
      }),
    );
    expect(activated.status).toBe(200);
    const count = 20;
    const accepted = [];
    for (let i = 0; i < count; i++) {
      const number = `+3361234${String(i).padStart(4, '0')}`;
      const response = await herald.request('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId(`sms${i}`),
        campaignId: activated.body.id,
        recipients: [{ userId: number, namespace: 'phone' }],
        context: { orderId: `C${i}` },
      });
      expect(response.status).toBe(202);
      accepted.push(response.body.executionId as string);
    }
    for (const executionId of accepted) expect(await herald.waitForExecution(executionId, 120_000)).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    for (let i = 0; i < count; i++) {
      const messages = twilio.messagesTo(`+3361234${String(i).padStart(4, '0')}`);
      expect(messages.map((m) => m.body)).toEqual([`Your code is C${i}`]);
    }
  }, 180_000);

  it("reports its outcomes through feedback webhooks, as every trigger's", async () => {
    const bodies: string[] = [];
    const { server, url } = await listenOnLoopback(
      async (req, res) => {
        bodies.push(await readBody(req));
        res.writeHead(200);
        res.end('ok');
      },
      () => ({}),
    );
    try {
      const { activated } = await activate(
        herald,
        highThroughputCampaign({ name: 'Webhooks', audience: { namespace: 'customers', createMissingProfiles: false } }),
      );
      const campaignId = activated.body.id;
      const endpoint = await herald.request('POST', '/v1/webhooks', { url: `${url}/hook`, events: ['sent', 'failed'], campaignIds: [campaignId] });
      expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
      const sent = await herald.request('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('wh-sent'),
        campaignId,
        recipients: [{ userId: 'w-1', namespace: 'customers', channelData: { emailAddress: 'w1@example.com' } }],
        context: { orderId: 'W1' },
      });
      const failed = await herald.request('POST', '/v1/executions/unitary', {
        requestId: uniqueRequestId('wh-failed'),
        campaignId,
        recipients: [{ userId: 'w-2', namespace: 'customers' }],
        context: { orderId: 'W2' },
      });
      await herald.waitForExecution(sent.body.executionId, 60_000);
      await herald.waitForExecution(failed.body.executionId, 60_000);
      const events = () =>
        bodies.flatMap((body) => {
          const parsed = JSON.parse(body) as { type: string; data: any };
          return parsed.type === 'message.batch' ? parsed.data.events : [parsed];
        });
      const deadline = Date.now() + 60_000;
      while (events().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(
        events()
          .map((e: { data: { executionId: string; event: string } }) => `${e.data.executionId}/${e.data.event}`)
          .sort(),
      ).toEqual([`${sent.body.executionId}/sent`, `${failed.body.executionId}/failed`].sort());
      await herald.request('DELETE', `/v1/webhooks/${endpoint.body.id}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 120_000);
});
