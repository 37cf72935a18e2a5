import { expect } from 'vitest';
import { openDatabase, type DatabaseTarget } from '../../../src/db/database';
import { startFakeResend, type FakeResend } from '../../support/fake-resend';
import { startProcessStack, waitFor, type ProcessStack } from '../../support/process-stack';
import { startProviderProxy, type ProviderProxy } from './provider-proxy';
import { createLiveCampaign, planTriggers, triggerWithRetry, type AcceptedTrigger, type PlannedTrigger } from './triggers';

/**
 * A high-throughput run for the fault tests (issue 23, ADR 0010): one-recipient triggers of a
 * `throughput: high` email campaign from many concurrent callers, and what must hold once it has
 * drained, read in bulk from Herald's database and the fake Resend rather than one GET per trigger.
 */

/** Triggers per run: 20,000 as issue 23 asks; fewer (HT_FAULT_TRIGGERS) while the machine is shared. */
export const HIGH_THROUGHPUT_FAULT_TRIGGERS = Number(process.env.HT_FAULT_TRIGGERS ?? 20_000);
/** Concurrent callers, each on keep-alive connections (fetch's default), one call at a time. */
export const HIGH_THROUGHPUT_FAULT_CALLERS = 64;
/** The per-key rate limit raised, so that the run measures Herald and not the limiter (issue 23). */
export const UNLIMITED_RATE = { HERALD_RATE_LIMIT: '1000000' };

type Request = Parameters<typeof createLiveCampaign>[0];

/** A live high-throughput email campaign rendered from the call's context alone (no profile). */
export function createHighThroughputCampaign(request: Request): Promise<string> {
  return createLiveCampaign(request, {
    name: 'Codes at high throughput',
    throughput: 'high',
    content: { subject: 'Your code {{ context.code }}', html: '<p>Your code is {{ context.code }}</p>', text: 'Code {{ context.code }}' },
    audience: { namespace: 'email', createMissingProfiles: false },
  });
}

export interface HighThroughputFaultStack {
  fake: FakeResend;
  /** Between Herald and the fake, to hold answers of blocks the fake accepted. */
  proxy: ProviderProxy;
  stack: ProcessStack;
  campaignId: string;
  /** Ends the processes, then the proxy and the fake. Safe after a failed start. */
  close(): Promise<void>;
}

/**
 * The fake Resend behind the provider proxy, a worker and an API as processes on `temporalAddress`,
 * and a live high-throughput campaign. `apiEnv` and `workerEnv`: settings of one process only;
 * `apiTemporalAddress`: where the API alone reaches Temporal (a fault proxy).
 */
export async function startHighThroughputStack(
  temporalAddress: string,
  { apiEnv, workerEnv, apiTemporalAddress }: { apiEnv?: Record<string, string>; workerEnv?: Record<string, string>; apiTemporalAddress?: string } = {},
): Promise<HighThroughputFaultStack> {
  const fake = await startFakeResend();
  const proxy = await startProviderProxy(fake.url);
  const close = async (stack?: ProcessStack) => {
    await stack?.stop();
    await proxy.close();
    await fake.close();
  };
  let stack: ProcessStack | undefined;
  try {
    stack = await startProcessStack({
      temporalAddress,
      env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url, ...UNLIMITED_RATE },
      ...(apiEnv && { apiEnv }),
      ...(workerEnv && { workerEnv }),
      ...(apiTemporalAddress && { apiTemporalAddress }),
    });
    const campaignId = await createHighThroughputCampaign(stack.request);
    const started = stack;
    return { fake, proxy, stack, campaignId, close: () => close(started) };
  } catch (error) {
    await close(stack);
    throw error;
  }
}

/** `count` one-recipient trigger bodies, each to an address of its own. */
export const planOneRecipientTriggers = (campaignId: string, label: string, count: number): PlannedTrigger[] => planTriggers(campaignId, label, count, 1);

export interface CallerRun {
  /** Calls answered 202 so far. */
  acceptedCount(): number;
  /** Every call answered 202 (repeats included until they were), in the order they were answered. */
  done: Promise<AcceptedTrigger[]>;
  startedAt: number;
  /** When the last call was answered; undefined while calls are still going. */
  finishedAt?: number;
}

/**
 * `callers` clients share the planned calls, each making one call at a time as a client would:
 * a connection error, a timeout, a 5xx or a 429 is retried with the same body (same requestId)
 * until 202 (triggerWithRetry), so a process killed under them costs retries, never a call.
 */
export function startCallers(baseUrl: string, triggers: PlannedTrigger[], callers: number, deadlineMs = 180_000): CallerRun {
  const accepted: AcceptedTrigger[] = [];
  let next = 0;
  const caller = async () => {
    while (next < triggers.length) {
      const trigger = triggers[next++]!;
      accepted.push(await triggerWithRetry(baseUrl, trigger, { deadlineMs }));
    }
  };
  const run: CallerRun = {
    acceptedCount: () => accepted.length,
    startedAt: Date.now(),
    done: Promise.all(Array.from({ length: callers }, caller)).then(() => {
      run.finishedAt = Date.now();
      return accepted;
    }),
  };
  // Awaited by the test; a failure before then must not be an unhandled rejection.
  run.done.catch(() => {});
  return run;
}

/** Until the run is in its middle: a quarter of the triggers accepted (the rest still to come) and some sent. */
export function waitUntilMidRun(run: CallerRun, fake: FakeResend, count: number): Promise<boolean> {
  return waitFor(
    () => `a quarter of the triggers accepted and some sent (${run.acceptedCount()} accepted, ${fake.deliveries.length} sent)`,
    () => run.acceptedCount() >= count / 4 && fake.deliveries.length >= count / 20,
    120_000,
  );
}

/** From now on the fake accepts each block but its answer is held: returns the keys of the blocks in flight once there are two. */
export async function holdBlocksInFlight(proxy: ProviderProxy): Promise<string[]> {
  proxy.holdAnswers(true);
  await waitFor(
    () => `email blocks in flight on the worker (${proxy.heldCount()} held)`,
    () => proxy.heldCount() >= 2,
    30_000,
  );
  return proxy.attempts.filter((a) => a.outcome === 'held').map((a) => a.idempotencyKey!);
}

/** The head of a test's log line: how many calls, how fast they were accepted. */
export function acceptFigures(run: CallerRun, count: number): string {
  const ms = (run.finishedAt ?? Date.now()) - run.startedAt;
  return `${count} triggers from ${HIGH_THROUGHPUT_FAULT_CALLERS} callers, accepted in ${ms} ms (${Math.round((count * 1000) / Math.max(ms, 1))}/s)`;
}

/** No process of the stack exited unless the test killed or stopped it. */
export function expectNoCrash(stack: ProcessStack): void {
  expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
  expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
}

/** How the campaign's executions stand in Herald's database: by status, and the queue rows left. */
async function progressOf(database: ReturnType<typeof openDatabase>, campaignId: string) {
  const rows = await database
    .selectFrom('executions')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('count')])
    .where('campaign_id', '=', campaignId)
    .groupBy('status')
    .execute();
  const byStatus = Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  const queued = await database
    .selectFrom('ht_triggers')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return { byStatus, queued: Number(queued.count) };
}

/**
 * Polls Herald's database until `expected` executions of the campaign have left `running` and
 * its queue is empty. A crash among `processes` fails at once, with the process's last words.
 */
export async function waitForRunDrained(stack: ProcessStack, campaignId: string, expected: number, timeoutMs = 240_000): Promise<void> {
  const database = openDatabase(stack.database);
  let last: Awaited<ReturnType<typeof progressOf>> | undefined;
  try {
    await waitFor(
      () => `${expected} executions to finish (last seen: ${JSON.stringify(last)})`,
      async () => {
        for (const part of [stack.worker, stack.api]) {
          if (!part.running && part.unexpectedExits().length > 0) throw new Error(`${part.name} crashed during the run:\n${part.output()}`);
        }
        last = await progressOf(database, campaignId);
        const finished = Object.entries(last.byStatus).reduce((n, [status, count]) => (status === 'running' ? n : n + count), 0);
        return finished >= expected && last.queued === 0;
      },
      timeoutMs,
      500,
    );
  } finally {
    await database.destroy();
  }
}

/**
 * What each high-throughput fault test ends on: every call the callers planned was accepted once
 * (one execution per requestId, the one its caller got, however many attempts it took); the fake
 * took exactly one message per accepted trigger, under an idempotency key, for that execution,
 * and nothing else; every execution completed with its recipient `sent` under the id the fake
 * assigned. Returns the figures for the test's log line.
 */
export async function expectEachTriggerSentOnce(options: {
  database: DatabaseTarget;
  campaignId: string;
  fake: FakeResend;
  planned: PlannedTrigger[];
  accepted: AcceptedTrigger[];
}): Promise<{ providerRequests: number; keysRepeated: number }> {
  const { fake, planned, accepted } = options;
  const first = (list: unknown[]) => list.slice(0, 10);
  expect(accepted).toHaveLength(planned.length);
  expect(new Set(accepted.map((a) => a.trigger.requestId)).size).toBe(planned.length);

  const database = openDatabase(options.database);
  try {
    const executions = await database.selectFrom('executions').select(['id', 'request_id', 'status']).where('campaign_id', '=', options.campaignId).execute();
    const claimed = new Map(executions.map((row) => [row.request_id, row]));
    expect(executions, 'one execution per requestId').toHaveLength(accepted.length);
    expect(first(accepted.filter((a) => claimed.get(a.trigger.requestId)?.id !== a.executionId)), 'the execution each caller was answered').toEqual([]);
    expect(first(executions.filter((row) => row.status !== 'completed')), 'executions not completed').toEqual([]);

    const deliveries = await database
      .selectFrom('deliveries')
      .innerJoin('executions', 'executions.id', 'deliveries.execution_id')
      .select(['deliveries.execution_id', 'deliveries.user_id', 'deliveries.status', 'deliveries.message_id'])
      .where('executions.campaign_id', '=', options.campaignId)
      .execute();
    expect(deliveries).toHaveLength(accepted.length);
    const byExecution = new Map(deliveries.map((row) => [row.execution_id, row]));

    const sentTo = new Map<string, typeof fake.deliveries>();
    for (const delivery of fake.deliveries) for (const address of delivery.to) sentTo.set(address, [...(sentTo.get(address) ?? []), delivery]);
    expect(sentTo.size, 'addresses the fake sent to').toBe(accepted.length);
    expect(first(fake.deliveries.filter((d) => d.idempotencyKey === undefined)), 'messages sent without an idempotency key').toEqual([]);
    const wrong = accepted.flatMap(({ trigger, executionId }) => {
      const address = trigger.recipients[0]!.userId;
      const sent = sentTo.get(address) ?? [];
      const row = byExecution.get(executionId);
      const tagged = sent[0]?.tags?.find((tag) => tag.name === 'execution_id')?.value;
      const ok = sent.length === 1 && tagged === executionId && row?.status === 'sent' && row.message_id === sent[0]!.id && row.user_id === address;
      return ok ? [] : [{ executionId, address, sent: sent.map((d) => ({ id: d.id, key: d.idempotencyKey, tagged })), recorded: row }];
    });
    expect(first(wrong), `${wrong.length} triggers not sent exactly once as recorded`).toEqual([]);
    expect(await database.selectFrom('ht_triggers').select('execution_id').limit(1).execute(), 'the queue once drained').toEqual([]);
  } finally {
    await database.destroy();
  }

  const requestsPerKey = new Map<string, number>();
  for (const request of fake.requests)
    if (request.idempotencyKey) requestsPerKey.set(request.idempotencyKey, (requestsPerKey.get(request.idempotencyKey) ?? 0) + 1);
  return { providerRequests: fake.requests.length, keysRepeated: [...requestsPerKey.values()].filter((n) => n > 1).length };
}

/** A run under way: the calls planned and their callers. */
export interface MidRun {
  planned: PlannedTrigger[];
  run: CallerRun;
}

/** Plans HIGH_THROUGHPUT_FAULT_TRIGGERS calls, starts the callers and returns once the run is in its middle (waitUntilMidRun). */
export async function startRunToItsMiddle(herald: HighThroughputFaultStack, label: string): Promise<MidRun> {
  const planned = planOneRecipientTriggers(herald.campaignId, label, HIGH_THROUGHPUT_FAULT_TRIGGERS);
  const run = startCallers(herald.stack.baseUrl, planned, HIGH_THROUGHPUT_FAULT_CALLERS);
  await waitUntilMidRun(run, herald.fake, planned.length);
  return { planned, run };
}

/** Where the run stands now, for the moment of a kill: calls accepted, messages sent, milliseconds since the first call. */
export const progressNow = ({ run }: MidRun, fake: FakeResend) => ({
  accepted: run.acceptedCount(),
  sent: fake.deliveries.length,
  ms: Date.now() - run.startedAt,
});

/**
 * Waits for the callers, then for every execution to finish (waitForRunDrained), and checks the
 * run (expectEachTriggerSentOnce). Returns the accepted calls and the figures for the log line.
 */
export async function finishRun(herald: HighThroughputFaultStack, { planned, run }: MidRun) {
  const accepted = await run.done;
  await waitForRunDrained(herald.stack, herald.campaignId, planned.length);
  const drainedMs = Date.now() - run.startedAt;
  const figures = await expectEachTriggerSentOnce({ database: herald.stack.database, campaignId: herald.campaignId, fake: herald.fake, planned, accepted });
  return { accepted, drainedMs, ...figures };
}

/**
 * The blocks whose answers the proxy held when a process died: each must have been sent again
 * under its key by the attempt that finished the batch, and answered from the key with the same
 * ids (the fake took it once). Returns how many blocks and messages that was.
 */
export function expectHeldBlocksResentUnderTheirKeys(fake: FakeResend, heldKeys: string[]): { blocks: number; messages: number } {
  let messages = 0;
  for (const key of heldKeys) {
    const requests = fake.requestsFor(key).filter((r) => r.status === 200);
    expect(requests.length, key).toBeGreaterThanOrEqual(2);
    expect(new Set(requests.map((r) => JSON.stringify(r.response))).size, key).toBe(1);
    messages += fake.deliveriesFor(key).length;
  }
  return { blocks: heldKeys.length, messages };
}
