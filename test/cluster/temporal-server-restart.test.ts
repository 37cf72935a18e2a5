import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTemporalCluster, type TemporalCluster } from '../../temporal/cluster';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { sleep, startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { startProviderProxy, type ProviderProxy } from '../faults/support/provider-proxy';
import {
  attemptSummary,
  claimedExecutions,
  createLiveCampaign,
  expectEveryMessageDeliveredOnce,
  planTriggers,
  triggerWithRetry,
  type AcceptedTrigger,
  expectExactlyOnceAfterOutage,
} from '../faults/support/triggers';

/**
 * The Temporal server production runs (temporal/cluster.ts: v1.29.1 on PostgreSQL, every service in
 * one process) goes away under load and comes back on the same ports and databases: first killed
 * with SIGKILL (a host failure), then stopped gracefully and started again (a rolling upgrade of a
 * one-node cluster). This file starts a cluster of its own, with its own databases on the run's
 * PostgreSQL server, so restarting it disturbs no other file. Worker and API are real child
 * processes that stay up throughout and must reconnect by themselves.
 *
 * Only under `npm run test:cluster` (HERALD_TEST_TEMPORAL=cluster); the dev-server counterpart is
 * test/faults/temporal-restart.test.ts.
 */
const clusterPostgresUrl = inject('temporalClusterPostgresUrl');

/** Long enough for the in-flight completions and the API's start calls to give up on the server. */
const OUTAGE_MS = 8_000;

describe.skipIf(!clusterPostgresUrl)('Temporal cluster restarted under load', () => {
  let cluster: TemporalCluster;
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let stack: ProcessStack;
  let campaignId: string;
  /** Every call accepted so far, across both outages: the delivery check covers them all. */
  const accepted: AcceptedTrigger[] = [];
  const executions = new Map<string, any>();

  beforeAll(async () => {
    cluster = await startTemporalCluster({ postgresAdminUrl: clusterPostgresUrl, log: () => {} });
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    stack = await startProcessStack({ temporalAddress: cluster.address, env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url } });
    campaignId = await createLiveCampaign(stack.request);
  });
  afterAll(async () => {
    await stack?.stop();
    await cluster?.teardown();
    await proxy?.close();
    await fake?.close();
  });

  it('killed with SIGKILL mid-run: every execution started before, during and after completes, each message delivered once', async () => {
    const before = planTriggers(campaignId, 'before-crash', 10, 2); // 15 messages
    const during = planTriggers(campaignId, 'during-crash', 10, 2, 10); // 15 messages

    // Sends in flight when the server dies: accepted by the provider, answers held.
    proxy.holdAnswers(true);
    const beforeAccepted = await Promise.all(before.map((t) => triggerWithRetry(stack.baseUrl, t)));
    await waitFor('sends in flight', () => proxy.heldCount() >= 5, 30_000);
    const deliveredBeforeOutage = fake.deliveries.length;

    await cluster.crash();
    // Calls that arrive while Temporal is down: a client with a 5 s timeout retries the same
    // requestId (on timeout or 5xx) until 202.
    const duringCalls = during.map((t) => triggerWithRetry(stack.baseUrl, t, { deadlineMs: 120_000, attemptTimeoutMs: 5_000 }));
    await sleep(1_500);
    // The activities finish while the server is down and cannot report it.
    proxy.releaseHeld();
    await sleep(OUTAGE_MS - 1_500);
    await cluster.start();

    const duringAccepted = await Promise.all(duringCalls);
    accepted.push(...beforeAccepted, ...duringAccepted);
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 120_000));

    await expectExactlyOnceAfterOutage({
      label: 'cluster-crash',
      baseUrl: stack.baseUrl,
      database: stack.database,
      fake,
      accepted,
      duringAccepted,
      executions,
      deliveredBeforeOutage,
      expectedDeliveries: 30,
    });
  }, 240_000);

  it('stopped gracefully and started again while calls keep arriving: each message delivered once', async () => {
    const stream = planTriggers(campaignId, 'rolling', 24, 3); // 48 messages
    // One call every 250 ms for 6 s, the restart in the middle of it.
    const calls = stream.map(async (trigger, i) => {
      await sleep(i * 250);
      return triggerWithRetry(stack.baseUrl, trigger, { deadlineMs: 120_000, attemptTimeoutMs: 5_000 });
    });
    await sleep(1_500);
    const restartedAt = Date.now();
    await cluster.restart();
    const restartMs = Date.now() - restartedAt;

    const streamAccepted = await Promise.all(calls);
    accepted.push(...streamAccepted);
    for (const { executionId } of streamAccepted) executions.set(executionId, await stack.waitForExecution(executionId, 120_000));

    // The calls made while the server was down: the API's Temporal client waits the restart out.
    const duringRestart = streamAccepted.filter(({ attempts }) => attempts[0]!.at >= restartedAt && attempts[0]!.at <= restartedAt + restartMs);
    console.info(
      `[cluster-restart] graceful restart took ${restartMs} ms, ${duringRestart.length} calls made meanwhile; attempts per call: ${attemptSummary(streamAccepted)}`,
    );
    expect(duringRestart.length).toBeGreaterThanOrEqual(3);
    const claimed = await claimedExecutions(stack.database);
    for (const call of streamAccepted) expect(call.executionId, call.trigger.requestId).toBe(claimed.get(call.trigger.requestId));
    expect(claimed.size).toBe(accepted.length);
    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    expect(fake.deliveries).toHaveLength(30 + 48);

    // Worker and API rode out both outages without crashing.
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
  }, 240_000);
});
