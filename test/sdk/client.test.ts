import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeraldClient, TriggerNotAnsweredError, TriggerRejectedError, type HeraldClient } from '../../sdk/typescript/src/index';
import { startHerald, type Herald } from '../support/herald-harness';
import { waitFor } from '../support/process-stack';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

/**
 * @herald/client against a real Herald (real API, worker, Temporal and database), through a real
 * loopback HTTP proxy that can answer 503/429 itself or cut connections, and records every
 * attempt the client made.
 */
const KEY = `sdk-test-${randomUUID()}`;
const TRIGGER = '/v1/executions/unitary';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('@herald/client against the real API', () => {
  let herald: Herald;
  let proxy: FaultProxy;
  let client: HeraldClient;
  let campaignId: string;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: KEY } });
    proxy = await startFaultProxy(herald.baseUrl);
    client = createHeraldClient({ baseUrl: proxy.baseUrl, apiKey: KEY, retry: { deadlineMs: 20_000, initialDelayMs: 50 } });
  });
  afterAll(async () => {
    await proxy?.close();
    await herald?.stop();
  });

  const recipients = (label: string) => [{ userId: `${label}-${randomUUID().slice(0, 8)}@example.com`, namespace: 'email' }];

  /** The TriggerRejectedError a trigger call threw. */
  async function rejection(call: Promise<unknown>): Promise<TriggerRejectedError> {
    const error = await call.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TriggerRejectedError);
    return error as TriggerRejectedError;
  }

  async function finished(executionId: string) {
    return waitFor(
      `execution ${executionId} to finish`,
      async () => {
        const { data } = await client.GET('/v1/executions/{executionId}', { params: { path: { executionId } } });
        return data && data.status !== 'running' ? data : undefined;
      },
      30_000,
    );
  }

  it('creates, activates and triggers a campaign and reads the execution, typed from the document', async () => {
    const created = await client.POST('/v1/campaigns', {
      body: {
        name: 'SDK welcome',
        type: 'transactional',
        channel: 'email',
        content: { subject: 'Hello', html: '<p>Your code is {{ context.code }}</p>', text: 'Code {{ context.code }}' },
        audience: { namespace: 'email', createMissingProfiles: true },
      },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    campaignId = created.data!.id;
    const activated = await client.POST('/v1/campaigns/{id}/activate', { params: { path: { id: campaignId } } });
    expect(activated.response.status, JSON.stringify(activated.error)).toBe(200);

    const to = recipients('typed');
    const accepted = await client.trigger({ campaignId, recipients: to, context: { code: '4711' } });
    expect(accepted.requestId).toMatch(UUID);
    expect(accepted).toEqual({ executionId: expect.any(String), requestId: accepted.requestId, campaignId, replayed: false });
    expect(proxy.callsTo('POST', TRIGGER).at(-1)!.body.requestId).toBe(accepted.requestId);

    const execution = await finished(accepted.executionId);
    expect(execution).toMatchObject({ executionId: accepted.executionId, status: 'completed', recipients: [{ userId: to[0]!.userId, status: 'sent' }] });

    // The same call again: the server answers the first call's execution and says it is a repeat.
    const again = await client.trigger({ campaignId, recipients: to, context: { code: '4711' }, requestId: accepted.requestId });
    expect(again).toEqual({ ...accepted, replayed: true });
  });

  it('keeps the requestId it made up across a 503 with Retry-After and a cut connection', async () => {
    proxy.inject('POST', TRIGGER, { kind: 'answer', status: 503, headers: { 'retry-after': '1' } });
    proxy.inject('POST', TRIGGER, { kind: 'cut-before' });
    const seen = proxy.callsTo('POST', TRIGGER).length;

    const accepted = await client.trigger({ campaignId, recipients: recipients('retried') });
    const attempts = proxy.callsTo('POST', TRIGGER).slice(seen);
    expect(attempts).toHaveLength(3);
    expect(attempts.map((a) => a.body.requestId)).toEqual([accepted.requestId, accepted.requestId, accepted.requestId]);
    // Retry-After: 1 means not again before one second (less a timer's rounding).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(990);
    // Neither failed attempt reached the API: the one that did is a first call.
    expect(accepted.replayed).toBe(false);
    expect((await finished(accepted.executionId)).status).toBe('completed');
  });

  it('runs an audience with a made-up requestId kept across a 503, and a repeat is a replay', async () => {
    const segment = `sdk-${randomUUID().slice(0, 8)}`;
    for (const userId of [`${segment}-1@example.com`, `${segment}-2@example.com`]) {
      const put = await client.PUT('/v1/profiles/{namespace}/{userId}', {
        params: { path: { namespace: 'email', userId } },
        body: { attributes: { segment }, consents: { email: 'in' } },
      });
      expect(put.response.ok, JSON.stringify(put.error)).toBe(true);
    }
    const audience = await client.POST('/v1/audiences', {
      body: { name: segment, namespace: 'email', definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] } },
    });
    expect(audience.response.status, JSON.stringify(audience.error)).toBe(201);
    const campaign = await client.POST('/v1/campaigns', {
      body: {
        name: 'SDK audience',
        type: 'marketing',
        channel: 'email',
        content: { subject: 'Hi', html: '<p>{{ context.offer }}</p>' },
        audience: { namespace: 'email' },
      },
    });
    expect(campaign.response.status, JSON.stringify(campaign.error)).toBe(201);
    expect((await client.POST('/v1/campaigns/{id}/activate', { params: { path: { id: campaign.data!.id } } })).response.status).toBe(200);

    proxy.inject('POST', '/v1/executions/audience', { kind: 'answer', status: 503, headers: { 'retry-after': '1' } });
    const seen = proxy.callsTo('POST', '/v1/executions/audience').length;
    const body = { campaignId: campaign.data!.id, audience: { id: audience.data!.id }, context: { offer: '20% off' } };
    const run = await client.triggerAudience(body);
    expect(run.requestId).toMatch(UUID);
    expect(run).toMatchObject({ executionId: expect.any(String), requestId: run.requestId, replayed: false });
    const attempts = proxy.callsTo('POST', '/v1/executions/audience').slice(seen);
    expect(attempts.map((a) => a.body.requestId)).toEqual([run.requestId, run.requestId]);

    const executionId = 'executionId' in run ? run.executionId : '';
    expect(await finished(executionId)).toMatchObject({ status: 'completed', counts: { sent: 2 } });
    expect(await client.triggerAudience({ ...body, requestId: run.requestId })).toEqual({ ...run, replayed: true });
  });

  it('honours a 429 whose Retry-After is an HTTP date, and retries 429 on any POST', async () => {
    const retryAt = new Date(Date.now() + 2_000).toUTCString();
    proxy.inject('POST', '/v1/campaigns', { kind: 'answer', status: 429, headers: { 'retry-after': retryAt } });
    const seen = proxy.callsTo('POST', '/v1/campaigns').length;

    const created = await client.POST('/v1/campaigns', {
      body: { name: 'SDK 429', type: 'transactional', channel: 'email', content: { subject: 'Hi', html: '<p>Hi</p>' }, audience: { namespace: 'email' } },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    const attempts = proxy.callsTo('POST', '/v1/campaigns').slice(seen);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at).toBeGreaterThanOrEqual(Date.parse(retryAt) - 10);
  });

  it('sends a POST other than a trigger once on a 503 or a cut connection: it may have been done', async () => {
    const body = {
      name: 'SDK once',
      type: 'transactional' as const,
      channel: 'email' as const,
      content: { subject: 'Hi', html: '<p>Hi</p>' },
      audience: { namespace: 'email' },
    };
    proxy.inject('POST', '/v1/campaigns', { kind: 'answer', status: 503, headers: { 'retry-after': '1' } });
    let seen = proxy.callsTo('POST', '/v1/campaigns').length;
    const refused = await client.POST('/v1/campaigns', { body });
    expect(refused.response.status).toBe(503);
    expect(proxy.callsTo('POST', '/v1/campaigns').length - seen).toBe(1);

    proxy.inject('POST', '/v1/campaigns', { kind: 'cut-before' });
    seen = proxy.callsTo('POST', '/v1/campaigns').length;
    await expect(client.POST('/v1/campaigns', { body })).rejects.toThrow();
    expect(proxy.callsTo('POST', '/v1/campaigns').length - seen).toBe(1);
  });

  it('never retries a 4xx other than 429: 400, 401, 404 and 409 are answers', async () => {
    const count = () => proxy.calls.length;
    let seen = count();
    const invalid = await rejection(client.trigger({ campaignId, recipients: [] }));
    expect(invalid).toMatchObject({ status: 400, retryable: false, problem: { status: 400 } });
    expect(count() - seen).toBe(1);

    seen = count();
    const missing = await client.GET('/v1/executions/{executionId}', { params: { path: { executionId: '01JZZZZZZZZZZZZZZZZZZZZZZZ' } } });
    expect(missing.response.status).toBe(404);
    expect(count() - seen).toBe(1);

    const first = await client.trigger({ campaignId, recipients: recipients('conflict') });
    seen = count();
    const conflict = await rejection(client.trigger({ campaignId, recipients: recipients('conflict-other'), requestId: first.requestId }));
    expect(conflict).toMatchObject({ status: 409, retryable: false, requestId: first.requestId });
    expect(count() - seen).toBe(1);

    seen = count();
    const stranger = createHeraldClient({ baseUrl: proxy.baseUrl, apiKey: 'not-a-key', retry: { deadlineMs: 20_000, initialDelayMs: 50 } });
    expect((await stranger.GET('/v1/campaigns')).response.status).toBe(401);
    expect(count() - seen).toBe(1);
  });

  it('stops at the deadline: a Retry-After past it is returned at once, connections cut until then throw with the requestId', async () => {
    proxy.inject('POST', TRIGGER, { kind: 'answer', status: 503, headers: { 'retry-after': '3600' } });
    let seen = proxy.callsTo('POST', TRIGGER).length;
    const late = await rejection(client.trigger({ campaignId, recipients: recipients('late') }));
    expect(late).toMatchObject({ status: 503, retryable: true });
    expect(proxy.callsTo('POST', TRIGGER).length - seen).toBe(1);

    proxy.inject('POST', TRIGGER, { kind: 'cut-before' }, 10_000);
    seen = proxy.callsTo('POST', TRIGGER).length;
    const impatient = createHeraldClient({ baseUrl: proxy.baseUrl, apiKey: KEY, retry: { deadlineMs: 1_500, initialDelayMs: 50 } });
    try {
      const failure = await impatient.trigger({ campaignId, recipients: recipients('cut') }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(TriggerNotAnsweredError);
      const attempts = proxy.callsTo('POST', TRIGGER).slice(seen);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      for (const attempt of attempts) expect(attempt.body.requestId).toBe((failure as TriggerNotAnsweredError).requestId);
    } finally {
      proxy.clearFaults();
    }
  });
});
