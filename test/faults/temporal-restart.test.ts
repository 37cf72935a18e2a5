import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../temporal/dev-server';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { freePort, sleep, startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { startProviderProxy, type ProviderProxy } from './support/provider-proxy';
import { createLiveCampaign, planTriggers, triggerWithRetry, type AcceptedTrigger, expectExactlyOnceAfterOutage } from './support/triggers';

/**
 * The Temporal server goes away in the middle of a run and comes back on the same port and the
 * same SQLite file (what `npm start` does after a crash or a reboot). This file runs its own dev
 * server, not the run's shared in-memory one. Worker and API are real child processes that stay
 * up throughout and must reconnect by themselves.
 */
/** Long enough for the in-flight completions and the API's start calls to give up on the server. */
const OUTAGE_MS = 8_000;

describe('Temporal dev server restarted on the same database mid-run', () => {
  let dir: string;
  let dbFilename: string;
  let port: number;
  let server: TestWorkflowEnvironment | undefined;
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let stack: ProcessStack;
  let campaignId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-faults-temporal-'));
    dbFilename = join(dir, 'temporal.db');
    port = await freePort();
    server = await startDevServer({ port, dbFilename, log: () => {} });
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    stack = await startProcessStack({ temporalAddress: `127.0.0.1:${port}`, env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url } });
    campaignId = await createLiveCampaign(stack.request);
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.teardown();
    await proxy?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every execution started before, during and after the outage completes, each message delivered once', async () => {
    const before = planTriggers(campaignId, 'before', 10, 2); // 15 messages
    const during = planTriggers(campaignId, 'during', 10, 2, 10); // 15 messages

    // Sends in flight when the server goes: accepted by the provider, answers held.
    proxy.holdAnswers(true);
    const accepted: AcceptedTrigger[] = await Promise.all(before.map((t) => triggerWithRetry(stack.baseUrl, t)));
    await waitFor('sends in flight', () => proxy.heldCount() >= 5, 30_000);
    const deliveredBeforeOutage = fake.deliveries.length;

    await server!.teardown();
    server = undefined;
    // Calls that arrive while Temporal is down: a client with a 5 s timeout retries the same
    // requestId (on timeout or 5xx) until 202.
    const duringCalls = during.map((t) => triggerWithRetry(stack.baseUrl, t, { deadlineMs: 90_000, attemptTimeoutMs: 5_000 }));
    await sleep(1_500);
    // The activities finish while the server is down and cannot report it.
    proxy.releaseHeld();
    await sleep(OUTAGE_MS - 1_500);
    server = await startDevServer({ port, dbFilename, log: () => {} });

    accepted.push(...(await Promise.all(duringCalls)));
    const executions = new Map<string, any>();
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 90_000));

    const duringAccepted = accepted.slice(before.length);
    await expectExactlyOnceAfterOutage({
      label: 'temporal-restart',
      baseUrl: stack.baseUrl,
      database: stack.database,
      fake,
      accepted,
      duringAccepted,
      executions,
      deliveredBeforeOutage,
      expectedDeliveries: 30,
    });

    // Worker and API rode out the outage without crashing.
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
  }, 150_000);
});
