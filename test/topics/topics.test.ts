import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudienceRunRepository } from '../../src/repositories/audience-runs';
import { requestHash } from '../../src/services/idempotent-start';
import { audienceExecutionWorkflowId } from '../../workflows/workflow-ids';
import { createApiKey, heraldAs, withKey, type Requester } from '../support/api-keys';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'topics-bootstrap-key';
/** Small NDJSON limits, so that the cut-off is cheap to reach (64 KiB holds about 1,700 subscriber lines). */
const env = { HERALD_API_KEYS: BOOT, HERALD_IMPORT_MAX_BYTES: String(64 * 1024), HERALD_IMPORT_MAX_LINE_BYTES: '256' };

/** A comment notification: the shared context is what every subscriber renders with. */
const notification = (overrides: Record<string, unknown> = {}) => ({
  name: 'New comment',
  content: { subject: 'New comment for {{ profile.firstName }}', html: '<p>{{ context.comment }}</p>', text: '{{ context.comment }}' },
  ...overrides,
});

let counter = 0;
const uniqueKey = (label: string) => `${label}-${Date.now().toString(36)}-${++counter}`;

async function createTopic(full: Requester, key: string, name = `Topic ${key}`) {
  const res = await full('POST', '/v1/topics', { key, name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function subscribe(full: Requester, key: string, subscribers: { namespace: string; userId: string }[]) {
  const res = await full('PUT', `/v1/topics/${key}/subscribers`, { subscribers });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Profiles in namespace email (the userId is the address), with email consent unless `consent` says otherwise. */
async function seed(full: Requester, userIds: string[], consent: 'in' | 'out' = 'in') {
  for (const userId of userIds) {
    const res = await full('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, {
      attributes: { firstName: userId.split('@')[0] },
      consents: { email: consent },
    });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }
}

async function waitForExecution(as: Requester, executionId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await as('GET', `/v1/executions/${executionId}`);
    if (body?.status && body.status !== 'running') return body;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still running after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function outbox(full: Requester, campaignId: string) {
  const res = await full('GET', `/v1/outbox?campaignId=${campaignId}&limit=500`);
  return res.body.items as { to: string; executionId: string; subject: string; html: string }[];
}

describe('topics', () => {
  let herald: Herald;
  let full: Requester;

  beforeAll(async () => {
    herald = await startHerald({ env });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald?.stop());

  const ndjson = (key: string, body: string, contentType = 'application/x-ndjson') =>
    full('PUT', `/v1/topics/${key}/subscribers`, body, { 'content-type': contentType });

  it('creates, reads with its subscriber count, lists a page at a time, and deletes topics, audited', async () => {
    const key = uniqueKey('crud');
    const created = await createTopic(full, key, 'Followers');
    expect(created).toEqual({ key, name: 'Followers', createdAt: expect.any(String), updatedAt: expect.any(String) });
    const again = await full('POST', '/v1/topics', { key, name: 'Other' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.type).toBe('topic-exists');
    for (const key of ['Not-A-Slug', '-leading', 'with space', 'a/b', '']) {
      const bad = await full('POST', '/v1/topics', { key, name: 'x' });
      expect(bad.status, key).toBe(400);
      expect(bad.body.type).toBe('validation-failed');
    }
    expect((await full('POST', '/v1/topics', { key: uniqueKey('extra'), name: 'x', extra: 1 })).status).toBe(400);

    await subscribe(full, key, [
      { namespace: 'email', userId: 'ada@example.com' },
      { namespace: 'crm', userId: 'ada' },
    ]);
    expect((await full('GET', `/v1/topics/${key}`)).body).toEqual({ ...created, subscriberCount: 2 });

    // Key order, a page at a time.
    const keys = [uniqueKey('page-a'), uniqueKey('page-b'), uniqueKey('page-c')];
    for (const k of keys) await createTopic(full, k);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await full('GET', `/v1/topics?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((t: { key: string }) => t.key));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining([key, ...keys]));

    expect((await full('DELETE', `/v1/topics/${key}`)).status).toBe(204);
    expect((await full('GET', `/v1/topics/${key}`)).status).toBe(404);
    expect((await full('DELETE', `/v1/topics/${key}`)).status).toBe(404);
    expect((await full('GET', `/v1/topics/${key}/subscribers`)).status).toBe(404);
    const audit = await full('GET', `/v1/audit-log?resourceType=topic&resourceId=${key}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['topic.deleted', 'topic.created']);
  });

  it('subscribes as JSON (idempotent, at most 1,000 a call) and as NDJSON for more, pages and unsubscribes', async () => {
    const key = uniqueKey('subs');
    await createTopic(full, key);
    const first = await subscribe(full, key, [
      { namespace: 'email', userId: 'u03' },
      { namespace: 'crm', userId: 'u02' },
      { namespace: 'email', userId: 'u01' },
      { namespace: 'email', userId: 'u01' },
    ]);
    expect(first).toEqual({ received: 4, added: 3, alreadySubscribed: 1, rejected: 0, errors: [] });
    const repeat = await subscribe(full, key, [{ namespace: 'email', userId: 'u03' }]);
    expect(repeat).toMatchObject({ added: 0, alreadySubscribed: 1 });

    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ namespace: 'crm', userId: `x${i}` }));
    const refused = await full('PUT', `/v1/topics/${key}/subscribers`, { subscribers: tooMany });
    expect(refused.status).toBe(400);
    expect(refused.body.type).toBe('validation-failed');
    expect((await full('PUT', `/v1/topics/${key}/subscribers`, { subscribers: [{ namespace: 'crm' }] })).status).toBe(400);
    expect((await full('PUT', `/v1/topics/${key}/subscribers`, { subscribers: [] })).status).toBe(400);
    expect((await full('PUT', `/v1/topics/${key}/subscribers`, 'u01', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await full('PUT', '/v1/topics/no-such-topic/subscribers', { subscribers: [{ namespace: 'crm', userId: 'a' }] })).status).toBe(404);

    // NDJSON: bad lines reported and skipped, the rest added.
    const lines = [
      '{"namespace":"crm","userId":"u04"}',
      '{not json',
      '{"namespace":"crm"}',
      '',
      '{"namespace":"email","userId":"u01"}',
      '{"namespace":"crm","userId":"u05"}',
    ];
    const streamed = await ndjson(key, `${lines.join('\n')}\n`);
    expect(streamed.status, JSON.stringify(streamed.body)).toBe(200);
    expect(streamed.body).toMatchObject({ received: 5, added: 2, alreadySubscribed: 1, rejected: 2 });
    expect(streamed.body.errors.map((e: { line: number }) => e.line)).toEqual([2, 3]);

    // Paged in (namespace, userId) order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await full('GET', `/v1/topics/${key}/subscribers?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((s: { namespace: string; userId: string; subscribedAt: string }) => `${s.namespace}/${s.userId}`));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['crm/u02', 'crm/u04', 'crm/u05', 'email/u01', 'email/u03']);
    expect((await full('GET', `/v1/topics/${key}/subscribers?cursor=not-a-cursor`)).status).toBe(400);

    expect((await full('DELETE', `/v1/topics/${key}/subscribers/crm/u04`)).status).toBe(204);
    expect((await full('DELETE', `/v1/topics/${key}/subscribers/crm/u04`)).status).toBe(404);
    expect((await full('GET', `/v1/topics/${key}`)).body.subscriberCount).toBe(4);

    // More than 1,000 in one NDJSON body; over HERALD_IMPORT_MAX_BYTES the lines before the limit are kept (413 with the summary).
    const many = Array.from({ length: 1500 }, (_, i) => `{"namespace":"bulk","userId":"b${String(i).padStart(5, '0')}"}`).join('\n');
    expect((await ndjson(key, many)).body).toMatchObject({ received: 1500, added: 1500, rejected: 0 });
    const tooLarge = Array.from({ length: 2500 }, (_, i) => `{"namespace":"cut","userId":"c${String(i).padStart(5, '0')}"}`).join('\n');
    const cut = await ndjson(key, tooLarge);
    expect(cut.status).toBe(413);
    expect(cut.body.summary.added).toBeGreaterThan(1000);
    expect(cut.body.summary.added).toBeLessThan(2500);
  });

  it('fans a transactional campaign out to every subscriber of its namespace once, less excludeActor, frozen at the call', async () => {
    const key = uniqueKey('thread');
    await createTopic(full, key);
    const people = ['ann@example.com', 'bob@example.com', 'cat@example.com', 'dan@example.com'];
    await seed(full, [...people, 'late@example.com']);
    await subscribe(full, key, [
      ...people.map((userId) => ({ namespace: 'email', userId })),
      { namespace: 'email', userId: 'ghost@example.com' },
      { namespace: 'crm', userId: 'eve@example.com' },
    ]);
    const campaign = await liveCampaign(heraldAs(herald, BOOT), notification());
    const call = {
      requestId: uniqueRequestId('topic'),
      campaignId: campaign.id,
      topic: key,
      context: { comment: 'Bob replied' },
      excludeActor: { namespace: 'email', userId: 'bob@example.com' },
    };
    const accepted = await full('POST', '/v1/executions/topic', call);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect(accepted.body).toEqual({ executionId: expect.any(String), requestId: call.requestId, campaignId: campaign.id });
    // After the call: a subscriber who joins gets nothing, one who leaves still gets the message.
    await subscribe(full, key, [{ namespace: 'email', userId: 'late@example.com' }]);
    expect((await full('DELETE', `/v1/topics/${key}/subscribers/email/ann@example.com`)).status).toBe(204);

    const execution = await waitForExecution(full, accepted.body.executionId);
    expect(execution).toMatchObject({
      status: 'completed',
      kind: 'audience',
      counts: { sent: 3, failed: 1, excluded: 0, pending: 0 },
      audience: { audienceId: `topic:${key}`, targetedProfileCount: 4, progress: { processed: 4, targeted: 4, percent: 100 } },
    });
    const messages = (await outbox(full, campaign.id)).filter((m) => m.executionId === accepted.body.executionId);
    expect(messages.map((m) => m.to).sort()).toEqual(['ann@example.com', 'cat@example.com', 'dan@example.com']);
    expect(messages[0]).toMatchObject({ html: '<p>Bob replied</p>' });
    const recipients = await full('GET', `/v1/executions/${accepted.body.executionId}/recipients?limit=10`);
    expect(recipients.body.items.map((r: { userId: string; status: string; reason?: string }) => [r.userId, r.status, r.reason])).toEqual([
      ['ann@example.com', 'sent', undefined],
      ['cat@example.com', 'sent', undefined],
      ['dan@example.com', 'sent', undefined],
      ['ghost@example.com', 'failed', 'profile-not-found'],
    ]);

    // The operators' summary names the topic, never a person.
    const handle = herald.client.workflow.getHandle(audienceExecutionWorkflowId(campaign.id, call.requestId));
    expect(await (await handle.describe()).staticSummary()).toContain(`to topic ${key}`);
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain('ann@example.com');

    // Idempotent by requestId: a repeat answers the same execution and sends nothing again; another body is refused.
    const repeat = await full('POST', '/v1/executions/topic', call);
    expect(repeat.status).toBe(202);
    expect(repeat.body.executionId).toBe(accepted.body.executionId);
    expect(repeat.headers.get('idempotency-replay')).toBe('true');
    expect(accepted.headers.get('idempotency-replay')).toBeNull();
    expect(await outbox(full, campaign.id)).toHaveLength(3);
    const changed = await full('POST', '/v1/executions/topic', { ...call, context: { comment: 'other' } });
    expect(changed.status).toBe(409);
    expect(changed.body.type).toBe('request-id-conflict');
  });

  it('a repeat of a call that stopped between its claim and its freeze freezes the subscribers before the run starts', async () => {
    const key = uniqueKey('healed');
    await createTopic(full, key);
    await seed(full, ['h1@example.com', 'h2@example.com']);
    await subscribe(full, key, [
      { namespace: 'email', userId: 'h1@example.com' },
      { namespace: 'email', userId: 'h2@example.com' },
    ]);
    const campaign = await liveCampaign(heraldAs(herald, BOOT), notification());
    const call = { requestId: uniqueRequestId('healed'), campaignId: campaign.id, topic: key, context: { comment: 'x' } };
    // The first call's claim alone, as an API that stopped right after it leaves it: no member, no workflow.
    const claimed = await new AudienceRunRepository(herald.db).claim(
      {
        id: ulid(),
        requestId: call.requestId,
        requestHash: requestHash({ ...call, kind: 'topic' }),
        campaignId: campaign.id,
        campaignVersion: campaign.version,
        workflowId: audienceExecutionWorkflowId(campaign.id, call.requestId),
        audienceId: `topic:${key}`,
        context: call.context,
      },
      'email',
    );
    expect(claimed.kind).toBe('created');
    const repeat = await full('POST', '/v1/executions/topic', call);
    expect(repeat.status, JSON.stringify(repeat.body)).toBe(202);
    expect(repeat.headers.get('idempotency-replay')).toBe('true');
    const execution = await waitForExecution(full, repeat.body.executionId);
    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 2 }, audience: { targetedProfileCount: 2 } });
  });

  it('runs marketing campaigns too, with consent, and completes an empty topic with no recipient', async () => {
    const key = uniqueKey('news');
    await createTopic(full, key);
    await seed(full, ['in1@example.com', 'in2@example.com']);
    await seed(full, ['out@example.com'], 'out');
    await subscribe(
      full,
      key,
      ['in1@example.com', 'in2@example.com', 'out@example.com'].map((userId) => ({ namespace: 'email', userId })),
    );
    const campaign = await liveCampaign(heraldAs(herald, BOOT), notification({ type: 'marketing' }));
    const accepted = await full('POST', '/v1/executions/topic', {
      requestId: uniqueRequestId('news'),
      campaignId: campaign.id,
      topic: key,
      context: { comment: 'x' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const execution = await waitForExecution(full, accepted.body.executionId);
    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 2, excluded: 1 }, audience: { excludedByReason: { 'no-consent': 1 } } });

    const empty = uniqueKey('empty');
    await createTopic(full, empty);
    const none = await full('POST', '/v1/executions/topic', {
      requestId: uniqueRequestId('empty'),
      campaignId: campaign.id,
      topic: empty,
      context: { comment: 'x' },
    });
    expect(none.status).toBe(202);
    expect(await waitForExecution(full, none.body.executionId)).toMatchObject({
      status: 'completed',
      counts: { sent: 0, failed: 0, excluded: 0, pending: 0 },
      audience: { targetedProfileCount: 0 },
    });
  });

  it('refuses what it cannot run with problem+json', async () => {
    const key = uniqueKey('refusals');
    await createTopic(full, key);
    const as = heraldAs(herald, BOOT);
    const campaign = await liveCampaign(as, notification());
    const call = (body: Record<string, unknown>) =>
      full('POST', '/v1/executions/topic', { requestId: uniqueRequestId('refused'), campaignId: campaign.id, topic: key, ...body });

    const unknownTopic = await call({ topic: 'no-such-topic' });
    expect(unknownTopic.status).toBe(404);
    expect(unknownTopic.headers.get('content-type')).toContain('application/problem+json');
    expect((await call({ campaignId: 'no-such-campaign' })).status).toBe(404);
    expect((await call({ topic: 'Not A Key' })).status).toBe(400);
    expect((await call({ unknown: true })).status).toBe(400);
    expect((await call({ context: { system: {} } })).status).toBe(400);
    expect((await full('POST', '/v1/executions/topic', { campaignId: campaign.id, topic: key })).status).toBe(400);

    const withSteps = await liveCampaign(
      as,
      notification({
        steps: [
          { id: 'wait', type: 'delay', duration: 'PT1H' },
          { id: 'send', type: 'send' },
        ],
      }),
    );
    const steps = await call({ campaignId: withSteps.id });
    expect(steps.status).toBe(409);
    expect(steps.body.type).toBe('campaign-has-waiting-steps');

    const stopped = await liveCampaign(as, notification());
    expect((await full('POST', `/v1/campaigns/${stopped.id}/stop`)).status).toBe(200);
    const notLive = await call({ campaignId: stopped.id });
    expect(notLive.status).toBe(409);
    expect(notLive.body.type).toBe('campaign-not-live');
  });

  it('admits trigger keys for their campaigns only; topics themselves take full keys', async () => {
    const key = uniqueKey('scoped');
    await createTopic(full, key);
    await seed(full, ['scoped@example.com']);
    await subscribe(full, key, [{ namespace: 'email', userId: 'scoped@example.com' }]);
    const as = heraldAs(herald, BOOT);
    const allowed = await liveCampaign(as, notification());
    const other = await liveCampaign(as, notification());
    const trigger = withKey(herald, (await createApiKey(full, { scope: 'trigger', campaignIds: [allowed.id] })).key);

    const accepted = await trigger('POST', '/v1/executions/topic', {
      requestId: uniqueRequestId('scoped'),
      campaignId: allowed.id,
      topic: key,
      context: { comment: 'x' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect((await waitForExecution(trigger, accepted.body.executionId)).counts.sent).toBe(1);
    const refused = await trigger('POST', '/v1/executions/topic', { requestId: uniqueRequestId('scoped'), campaignId: other.id, topic: key });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('forbidden');

    expect((await trigger('POST', '/v1/topics', { key: uniqueKey('nope'), name: 'x' })).status).toBe(403);
    expect((await trigger('GET', `/v1/topics/${key}`)).status).toBe(403);
    expect((await trigger('PUT', `/v1/topics/${key}/subscribers`, { subscribers: [{ namespace: 'email', userId: 'x@example.com' }] })).status).toBe(403);
  });

  it("exports and erases a person's topic subscriptions", async () => {
    const key = uniqueKey('privacy');
    await createTopic(full, key, 'Privacy thread');
    await subscribe(full, key, [
      { namespace: 'crm', userId: 'erase-me' },
      { namespace: 'crm', userId: 'keep-me' },
    ]);
    const exported = await full('GET', '/v1/profiles/crm/erase-me/export');
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    expect(exported.body.topicSubscriptions).toEqual([{ topic: key, topicName: 'Privacy thread', subscribedAt: expect.any(String) }]);
    const erased = await full('DELETE', '/v1/profiles/crm/erase-me');
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased).toMatchObject({ profiles: 0, topicSubscriptions: 1 });
    const left = await full('GET', `/v1/topics/${key}/subscribers`);
    expect(left.body.items.map((s: { userId: string }) => s.userId)).toEqual(['keep-me']);
    expect((await full('GET', '/v1/profiles/crm/erase-me/export')).status).toBe(404);
  });
});

describe('topic executions without a worker', () => {
  let herald: Herald;
  let full: Requester;

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald?.stop());

  it('freeze the subscribers when called, before any worker runs: later subscribers are not in the run', async () => {
    const key = uniqueKey('snapshot');
    await createTopic(full, key);
    await subscribe(full, key, [
      { namespace: 'email', userId: 's1@example.com' },
      { namespace: 'email', userId: 's2@example.com' },
    ]);
    const campaign = await liveCampaign(heraldAs(herald, BOOT), notification());
    const accepted = await full('POST', '/v1/executions/topic', {
      requestId: uniqueRequestId('snap'),
      campaignId: campaign.id,
      topic: key,
      context: { comment: 'x' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    await subscribe(full, key, [{ namespace: 'email', userId: 's3@example.com' }]);
    expect((await full('DELETE', `/v1/topics/${key}/subscribers/email/s1@example.com`)).status).toBe(204);

    // Nothing ran the workflow: the members are the call's.
    const execution = await full('GET', `/v1/executions/${accepted.body.executionId}`);
    expect(execution.body).toMatchObject({ status: 'running', counts: { pending: 2 }, audience: { audienceId: `topic:${key}`, targetedProfileCount: 2 } });
    const recipients = await full('GET', `/v1/executions/${accepted.body.executionId}/recipients?limit=10`);
    expect(recipients.body.items.map((r: { userId: string }) => r.userId)).toEqual(['s1@example.com', 's2@example.com']);
  });
});
