import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { createTestDatabase, postgresSuite, startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { sleep, startProcessStack, type ProcessStack } from '../support/process-stack';
import {
  attemptSummary,
  claimedExecutions,
  createLiveCampaign,
  expectEveryMessageDeliveredOnce,
  planTriggers,
  triggerWithRetry,
  type AcceptedTrigger,
} from './support/triggers';

/**
 * PostgreSQL restarts (a fast shutdown: every session is terminated with 57P01, then the server
 * is gone for a while) under load. Worker and API are real child processes that stay up and must
 * reconnect by themselves; calls made meanwhile get 503 with Retry-After and are retried with the
 * same requestId. This file runs its own PostgreSQL server, so restarting it disturbs no other
 * file; it runs only in the PostgreSQL suite (HERALD_TEST_DATABASE=postgres).
 */
const OUTAGE_MS = 6_000;

describe.skipIf(!postgresSuite)('PostgreSQL restarted mid-run', () => {
  let server: PostgresServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let fake: FakeResend;
  let stack: ProcessStack;
  let campaignId: string;

  beforeAll(async () => {
    server = await startPostgresServer();
    database = await createTestDatabase(server.adminUrl);
    fake = await startFakeResend();
    stack = await startProcessStack({
      temporalAddress: inject('temporalAddress'),
      env: { DATABASE_URL: database.url, RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: fake.url },
    });
    campaignId = await createLiveCampaign(stack.request);
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
    await server?.teardown();
  });

  it('every trigger made before, during and after the restart completes, each message delivered once', async () => {
    const before = planTriggers(campaignId, 'before', 10, 2);
    const during = planTriggers(campaignId, 'during', 10, 2, 10);
    const after = planTriggers(campaignId, 'after', 5, 2, 20);

    // Accepted, and their workflows are running when the database goes.
    const accepted: AcceptedTrigger[] = await Promise.all(before.map((t) => triggerWithRetry(stack.baseUrl, t)));
    await server.stop();
    // Calls that arrive while PostgreSQL is down: a client retries the same requestId on 5xx or timeout until 202.
    const duringCalls = during.map((t) => triggerWithRetry(stack.baseUrl, t, { deadlineMs: 90_000, attemptTimeoutMs: 5_000 }));
    await sleep(OUTAGE_MS);
    await server.start();
    accepted.push(...(await Promise.all(duringCalls)));
    accepted.push(...(await Promise.all(after.map((t) => triggerWithRetry(stack.baseUrl, t, { deadlineMs: 60_000 })))));

    const executions = new Map<string, any>();
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 120_000));
    const duringAccepted = accepted.slice(before.length, before.length + during.length);
    console.info(
      `[postgres-restart] attempts of the calls made during the outage: ${attemptSummary(duringAccepted)}; ${fake.requests.length} provider requests for ${fake.deliveries.length} deliveries`,
    );
    expect(
      duringAccepted.some((call) => call.attempts.some((a) => a.status === 503)),
      'some call met the outage',
    ).toBe(true);

    // However many attempts a call took, its requestId has one execution: the one the client got.
    const claimed = await claimedExecutions(stack.database);
    for (const call of accepted) expect(call.executionId, call.trigger.requestId).toBe(claimed.get(call.trigger.requestId));
    expect(claimed.size).toBe(accepted.length);
    expectEveryMessageDeliveredOnce(fake, accepted, executions);

    // The same calls again: same executions, nothing sent again.
    const delivered = fake.deliveries.length;
    const repeats = await Promise.all(accepted.map(({ trigger }) => triggerWithRetry(stack.baseUrl, trigger)));
    expect(repeats.map((r) => r.executionId)).toEqual(accepted.map((a) => a.executionId));
    await sleep(1_000);
    expect(fake.deliveries).toHaveLength(delivered);

    // Worker and API rode out the restart without crashing.
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
  }, 240_000);
});
