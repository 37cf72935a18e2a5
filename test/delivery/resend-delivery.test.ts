import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyFor } from '../faults/support/triggers';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Email delivery end to end: a real Herald (API, Temporal worker, SQLite) sends through the
 * official `resend` SDK to a fake Resend API on a loopback port.
 */
describe('email delivery through Resend', () => {
  let fake: FakeResend;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeResend({ apiKey: 're_test_key' });
    herald = await startHerald({ env: { RESEND_API_KEY: 're_test_key', RESEND_BASE_URL: fake.url } });
    campaignId = (await liveCampaign(herald)).id;
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const recipient = (userId: string) => ({ userId, namespace: 'email' });

  async function trigger(body: { requestId?: string; recipients: { userId: string; namespace: string }[]; context?: Record<string, unknown> }) {
    const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('resend'), campaignId, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.executionId as string;
  }

  const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);

  it('sends one rendered email with the idempotency key and records the Resend id', async () => {
    const ada = address('ada');
    const profile = await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(ada)}`, { attributes: { firstName: 'Ada' } });
    expect(profile.status).toBe(201);

    const executionId = await trigger({ recipients: [recipient(ada)], context: { code: '4711' } });
    const execution = await herald.waitForExecution(executionId);

    const key = keyFor(executionId, ada);
    expect(fake.requestsFor(key)).toHaveLength(1);
    expect(fake.deliveries).toHaveLength(1);
    const [delivery] = fake.deliveries;
    expect(delivery).toMatchObject({
      idempotencyKey: key,
      to: [ada],
      from: 'Herald <herald@localhost.localdomain>',
      subject: 'Hello Ada',
      html: '<p>Hi Ada, your code is 4711</p>',
      text: 'Code 4711',
    });
    expect(delivery!.body.to).toBe(ada);
    expect(delivery!.tags).toEqual(
      expect.arrayContaining([
        { name: 'campaign_id', value: campaignId },
        { name: 'execution_id', value: executionId },
      ]),
    );
    expect(delivery!.headers.authorization).toBe('Bearer re_test_key');
    expect(delivery!.headers['idempotency-key']).toBe(key);

    expect(execution.status).toBe('completed');
    expect(execution.recipients).toEqual([expect.objectContaining({ userId: ada, status: 'sent', messageId: delivery!.id })]);
  });

  it('retries 429 (honouring Retry-After) and 500 until Resend accepts, and sends once', async () => {
    const bob = address('bob');
    const retryAfterSeconds = 2; // longer than the 1 s initial retry interval, so honouring it is visible
    fake.failNext([{ status: 429, retryAfterSeconds }, { status: 500 }], { to: bob });

    const executionId = await trigger({ recipients: [recipient(bob)], context: { code: '1' } });
    const execution = await herald.waitForExecution(executionId);

    const key = keyFor(executionId, bob);
    const attempts = fake.requestsFor(key);
    expect(attempts.map((r) => r.status)).toEqual([429, 500, 200]);
    expect(fake.deliveriesByKey()[key]).toBe(1);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    // The first attempt is the quick one in the workflow task; its 429 sends the message the durable
    // way after Retry-After. The 500 carries none: the activity's own backoff applies (1 s first).
    expect(attempts[2]!.receivedAt - attempts[1]!.receivedAt).toBeGreaterThanOrEqual(900);

    expect(outcomeOf(execution, bob)).toMatchObject({ status: 'sent', messageId: fake.deliveriesFor(key)[0]!.id });
  });

  it('does not send twice when Resend accepted but the answer was lost', async () => {
    const cy = address('cy');
    fake.failNext([{ acceptThenDrop: true }], { to: cy });

    const executionId = await trigger({ recipients: [recipient(cy)], context: { code: '2' } });
    const execution = await herald.waitForExecution(executionId);

    const key = keyFor(executionId, cy);
    expect(fake.requestsFor(key)).toHaveLength(2);
    expect(fake.deliveriesFor(key)).toHaveLength(1);
    expect(outcomeOf(execution, cy)).toMatchObject({ status: 'sent', messageId: fake.deliveriesFor(key)[0]!.id });
  });

  it('fails a recipient Resend rejects with 422 without retrying', async () => {
    const bad = address('bad');
    fake.rejectAddress(bad, 422);

    const executionId = await trigger({ recipients: [recipient(bad)], context: { code: '3' } });
    const execution = await herald.waitForExecution(executionId);

    const key = keyFor(executionId, bad);
    expect(fake.requestsFor(key).map((r) => r.status)).toEqual([422]);
    expect(fake.deliveries).toHaveLength(0);
    const outcome = outcomeOf(execution, bad);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain('provider-rejected');
    expect(outcome.reason).toContain('validation_error');
    expect(outcome.messageId).toBeUndefined();
    expect(execution.status).toBe('completed');
  });

  it('a repeated trigger call gives the same execution and no second email', async () => {
    const dee = address('dee');
    const body = { requestId: uniqueRequestId('repeat'), recipients: [recipient(dee)], context: { code: '4' } };

    const [first, second] = await Promise.all([trigger(body), trigger(body)]);
    expect(second).toBe(first);
    await herald.waitForExecution(first);
    const third = await trigger(body);
    expect(third).toBe(first);
    // Give a wrongly started second run time to reach the provider before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const execution = await herald.waitForExecution(third);

    const key = keyFor(first, dee);
    expect(fake.deliveriesByKey()).toEqual({ [key]: 1 });
    expect(fake.requestsFor(key)).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    expect(outcomeOf(execution, dee)).toMatchObject({ status: 'sent', messageId: fake.deliveries[0]!.id });
  });

  it('sends to every recipient of a call once, failing only the one Resend rejects', async () => {
    const good = [address('r1'), address('r2'), address('r3'), address('r4')];
    const rejected = address('r5');
    fake.rejectAddress(rejected, 422);
    const everyone = [good[0]!, good[1]!, rejected, good[2]!, good[3]!];

    const executionId = await trigger({ recipients: everyone.map(recipient), context: { code: '5' } });
    const execution = await herald.waitForExecution(executionId);

    expect(execution.status).toBe('completed');
    expect(fake.deliveriesByKey()).toEqual(Object.fromEntries(good.map((userId) => [keyFor(executionId, userId), 1])));
    for (const userId of good) {
      const key = keyFor(executionId, userId);
      expect(fake.requestsFor(key)).toHaveLength(1);
      const [delivery] = fake.deliveriesFor(key);
      expect(delivery!.to).toEqual([userId]);
      expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: delivery!.id });
    }
    expect(fake.requestsFor(keyFor(executionId, rejected)).map((r) => r.status)).toEqual([422]);
    expect(outcomeOf(execution, rejected)).toMatchObject({ status: 'failed', reason: expect.stringContaining('provider-rejected') });
    expect(new Set(execution.recipients.map((r: any) => r.messageId).filter(Boolean)).size).toBe(4);
  });

  it('sends to a userId beyond Latin-1 with an ASCII idempotency key under 256 characters', async () => {
    const zoe = `zoë-名前-${randomUUID().slice(0, 8)}@example.com`;
    const executionId = await trigger({ recipients: [recipient(zoe)], context: { code: '6' } });
    const execution = await herald.waitForExecution(executionId, 15_000);

    const key = keyFor(executionId, zoe);
    expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
    expect(fake.deliveriesByKey()).toEqual({ [key]: 1 });
    expect(outcomeOf(execution, zoe)).toMatchObject({ status: 'sent', messageId: fake.deliveriesFor(key)[0]!.id });
  });
});
