import { randomUUID } from 'node:crypto';
import { openDatabase, type DatabaseTarget } from '../../../src/db/database';
import { expect } from 'vitest';
import { providerIdempotencyKey } from '../../../src/channels/provider-idempotency-key';
import { emailCampaign } from '../../support/campaigns';
import type { FakeResend } from '../../support/fake-resend';

type Request = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** Creates and activates an email campaign through the API (`overrides` as emailCampaign takes them); returns its id. */
export async function createLiveCampaign(request: Request, overrides: Record<string, unknown> = {}): Promise<string> {
  const created = await request('POST', '/v1/campaigns', emailCampaign(overrides));
  if (created.status !== 201) throw new Error(`create failed (${created.status}): ${JSON.stringify(created.body)}`);
  const activated = await request('POST', `/v1/campaigns/${created.body.id}/activate`);
  if (activated.status !== 200) throw new Error(`activate failed (${activated.status}): ${JSON.stringify(activated.body)}`);
  return created.body.id as string;
}

/** The idempotency key Herald sends the provider for one recipient of an execution. */
export const keyFor = (executionId: string, userId: string) => providerIdempotencyKey(executionId, userId, 'email');

export interface PlannedTrigger {
  requestId: string;
  campaignId: string;
  recipients: { userId: string; namespace: 'email' }[];
  context: { code: string };
}

/** `count` trigger bodies with 1..maxRecipients recipients each (unique addresses), labelled for the run. */
export function planTriggers(campaignId: string, label: string, count: number, maxRecipients = 3, from = 0): PlannedTrigger[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    return {
      requestId: `${label}-${run}-${i}`,
      campaignId,
      recipients: Array.from({ length: (i % maxRecipients) + 1 }, (_, r) => ({ userId: `${label}-${run}-${i}-${r}@example.com`, namespace: 'email' as const })),
      context: { code: String(1000 + i) },
    };
  });
}

export interface TriggerAttempt {
  at: number;
  /** HTTP status, or 0 for a connection error / timeout. */
  status: number;
  error?: string;
  /** A 202 with `Idempotency-Replay: true`: the answer of an earlier claim of the requestId. */
  replay?: boolean;
}

export interface AcceptedTrigger {
  trigger: PlannedTrigger;
  executionId: string;
  attempts: TriggerAttempt[];
}

/**
 * What a well-behaved client of the trigger API does: POST, and on a connection error, a timeout,
 * a 5xx or a 429 send the very same body (same requestId) again with backoff, until 202.
 * Any other answer is a test failure. Bounded by `deadlineMs`.
 */
export async function triggerWithRetry(
  baseUrl: string,
  trigger: PlannedTrigger,
  options: { deadlineMs?: number; attemptTimeoutMs?: number } = {},
): Promise<AcceptedTrigger> {
  const deadline = Date.now() + (options.deadlineMs ?? 60_000);
  const attempts: TriggerAttempt[] = [];
  let backoffMs = 100;
  for (;;) {
    const at = Date.now();
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(`${baseUrl}/v1/executions/unitary`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(trigger),
        signal: AbortSignal.timeout(options.attemptTimeoutMs ?? 15_000),
      });
      const text = await response.text();
      attempts.push({ at, status: response.status, ...(response.headers.get('idempotency-replay') === 'true' && { replay: true }) });
      if (response.status === 202) return { trigger, executionId: JSON.parse(text).executionId as string, attempts };
      if (response.status < 500 && response.status !== 429) {
        throw new Error(`trigger ${trigger.requestId} answered ${response.status}: ${text}`);
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
    } catch (error) {
      if ((error as Error).message.startsWith(`trigger ${trigger.requestId} answered`)) throw error;
      attempts.push({ at, status: 0, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
    if (Date.now() > deadline) throw new Error(`trigger ${trigger.requestId} not accepted before the deadline; attempts: ${JSON.stringify(attempts)}`);
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs ?? backoffMs));
    backoffMs = Math.min(backoffMs * 2, 1_000);
  }
}

/**
 * The invariant every fault test ends on: the provider accepted exactly one message per
 * (execution, recipient), no message for anything else, each execution completed with every
 * recipient `sent`, and the messageId Herald recorded is the one the provider assigned.
 */
export function expectEveryMessageDeliveredOnce(
  fake: FakeResend,
  accepted: { executionId: string; trigger: PlannedTrigger }[],
  executions: Map<string, any>,
): void {
  const expectedKeys = accepted.flatMap(({ executionId, trigger }) => trigger.recipients.map((r) => keyFor(executionId, r.userId)));
  expect(new Set(expectedKeys).size, 'one execution per trigger').toBe(expectedKeys.length);
  expect(fake.deliveriesByKey()).toEqual(Object.fromEntries(expectedKeys.map((key) => [key, 1])));
  expect(fake.deliveries.filter((d) => d.idempotencyKey === undefined)).toEqual([]);

  for (const { executionId, trigger } of accepted) {
    const execution = executions.get(executionId);
    expect(execution?.status, `execution ${executionId}`).toBe('completed');
    for (const { userId } of trigger.recipients) {
      const [delivery] = fake.deliveriesFor(keyFor(executionId, userId));
      expect(delivery!.to).toEqual([userId]);
      expect(
        execution.recipients.find((r: any) => r.userId === userId),
        `${executionId} ${userId}`,
      ).toMatchObject({ status: 'sent', messageId: delivery!.id });
    }
  }
}

/** requestId => executionId as recorded in Herald's database (SQLite or PostgreSQL), read from outside the processes. */
export async function claimedExecutions(database: DatabaseTarget): Promise<Map<string, string>> {
  const db = openDatabase(database);
  try {
    const rows = await db.selectFrom('executions').select(['request_id', 'id']).execute();
    return new Map(rows.map((row) => [row.request_id, row.id]));
  } finally {
    await db.destroy();
  }
}

/** "202" or "503>0>202" per call, 0 meaning a connection error or a client timeout. */
export const attemptSummary = (calls: AcceptedTrigger[]) => calls.map((c) => c.attempts.map((a) => a.status).join('>')).join(' ');

export interface OutageOutcome {
  /** For the log line, e.g. `temporal-restart`. */
  label: string;
  baseUrl: string;
  database: DatabaseTarget;
  fake: FakeResend;
  /** Every accepted call, those of the outage included, and each one's finished execution. */
  accepted: AcceptedTrigger[];
  duringAccepted: AcceptedTrigger[];
  executions: Map<string, any>;
  deliveredBeforeOutage: number;
  expectedDeliveries: number;
}

/**
 * What every outage test proves once its calls have finished: one execution per requestId, the
 * one the client got, however many attempts the call took; every message delivered exactly once;
 * and the same calls again start nothing and send nothing.
 */
export async function expectExactlyOnceAfterOutage(outcome: OutageOutcome): Promise<void> {
  const { label, fake, accepted, duringAccepted, executions, deliveredBeforeOutage } = outcome;
  console.info(
    `[${label}] ${deliveredBeforeOutage} messages accepted before the outage; attempts of the calls made during it: ${attemptSummary(duringAccepted)}; ${fake.requests.length} provider requests for ${fake.deliveries.length} deliveries`,
  );
  const claimed = await claimedExecutions(outcome.database);
  for (const call of duringAccepted) expect(call.executionId, call.trigger.requestId).toBe(claimed.get(call.trigger.requestId));
  expect(claimed.size).toBe(accepted.length);
  expectEveryMessageDeliveredOnce(fake, accepted, executions);
  expect(deliveredBeforeOutage).toBeGreaterThanOrEqual(5);
  expect(deliveredBeforeOutage).toBeLessThan(outcome.expectedDeliveries);

  const repeats = await Promise.all(accepted.map(({ trigger }) => triggerWithRetry(outcome.baseUrl, trigger)));
  expect(repeats.map((r) => r.executionId)).toEqual(accepted.map((a) => a.executionId));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(fake.deliveries).toHaveLength(outcome.expectedDeliveries);
}
