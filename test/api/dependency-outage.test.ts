import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../../temporal/dev-server';
import { TEMPORAL_CALL_DEADLINE_MS } from '../../src/temporal-client/connection';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

describe('when Temporal is down', () => {
  let server: TestWorkflowEnvironment | undefined;
  let herald: Herald;
  beforeAll(async () => {
    server = await startDevServer();
    herald = await startHerald({ withoutWorker: true, temporalAddress: server.address });
  }, 120_000);
  afterAll(async () => {
    // The Temporal client's retry interceptor schedules each retry with a timer it never cancels;
    // one that fires after the connection is closed throws "Channel has been shut down" from the
    // timer. Every chain here ends once its call's deadline (at most TEMPORAL_CALL_DEADLINE_MS)
    // has passed plus one backoff, so let them drain before closing the connection.
    await new Promise((resolve) => setTimeout(resolve, TEMPORAL_CALL_DEADLINE_MS + 5_000));
    await herald?.stop();
    await server?.teardown();
  });

  it('a trigger that waits for its start answers 503 with Retry-After, health answers 503, and nothing is a 500', async () => {
    // A campaign with steps: its trigger is answered only once its workflow has started (ADR 0011).
    const campaign = await liveCampaign(herald, { steps: [{ id: 'send', type: 'send' }] });
    const plain = await liveCampaign(herald);
    await server!.teardown();
    server = undefined;
    const calledAt = Date.now();
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId(),
      campaignId: campaign.id,
      recipients: [{ userId: 'ada@example.com', namespace: 'email' }],
    });
    expect(res.status).toBe(503);
    // The API gives up on Temporal after its call deadline (5 s) instead of the client's ~20 s of retries.
    expect(Date.now() - calledAt).toBeLessThan(10_000);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    // Readiness fails and says only that: the reason is in the API log, not in the answer.
    for (const path of ['/health', '/health/ready']) {
      const health = await herald.request('GET', path);
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ type: 'not-ready', title: 'Not ready', status: 503 });
    }
    expect((await herald.request('GET', '/health/live')).status).toBe(200);

    // A campaign without steps: the trigger is accepted from its claim, synced to disk, once
    // HERALD_START_WAIT_MS is over; its start is tried again, and the orphan sweep starts it if the API cannot.
    const accepted = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId(),
      campaignId: plain.id,
      recipients: [{ userId: 'ada@example.com', namespace: 'email' }],
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect((await herald.request('GET', `/v1/executions/${accepted.body.executionId}`)).body.status).toBe('running');
  }, 60_000);
});
