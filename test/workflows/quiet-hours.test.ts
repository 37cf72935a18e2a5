/**
 * Quiet hours across daylight-saving nights, in Temporal's time-skipping test environment: the
 * trigger workflow judges quiet hours by workflow time and waits for the window's end on a
 * durable timer, which the test server skips to. Activities are Herald's own, run by a worker
 * in this test against a real SQLite database; the provider is the outbox.
 *
 * The Java test server comes from Maven Central (temporal/test-server-binary.ts); without a
 * JVM or Maven the file is skipped, saying why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../support/time-skipping';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import { loadConfig } from '../../src/config/env';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import type { QuietHours } from '../../src/domain/campaign';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { ExecutionRepository } from '../../src/repositories/executions';
import { OutboxRepository } from '../../src/repositories/outbox';
import { ProfileRepository } from '../../src/repositories/profiles';
import { createTemplateRenderer } from '../../src/rendering/template-renderer';
import { selectEmailProvider } from '../../src/channels/email/select-email-provider';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { triggerExecution } from '../../workflows/trigger-execution';
import { bundleWorkflows } from '../../src/worker/create-worker';

const executable = resolveTestServerExecutable((line) => console.log(`[quiet-hours test] ${line}`));
const NAMESPACE = 'crm';

describe.skipIf(!executable)('quiet hours in workflow time (time-skipping test server)', () => {
  let env: TestWorkflowEnvironment;
  let db: HeraldDb;
  let dataDir: string;
  let worker: Worker;
  let workerRun: Promise<void>;
  let closeRenderer: () => Promise<void>;
  const taskQueue = `quiet-hours-${randomUUID()}`;

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // keep the existing runtime
    }
    env = await startTimeSkipping(executable!);
    dataDir = mkdtempSync(join(tmpdir(), 'herald-quiet-hours-'));
    const config = loadConfig({ HERALD_DATA_DIR: dataDir, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, PORT: '1' });
    db = await openMigratedDatabase(config.database);
    const outbox = new OutboxRepository(db);
    const renderer = createTemplateRenderer(config.render);
    closeRenderer = () => renderer.close();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities: createActivities({
        db,
        emailProvider: selectEmailProvider(config.email, outbox),
        emailFrom: config.email.from,
        temporal: env.client,
        orphanGraceSeconds: config.orphanSweep.graceSeconds,
        retentionDays: config.retention.days,
        audienceMaxRuntimeMs: config.audienceMaxRuntimeMs,
        renderer,
      }),
    });
    workerRun = worker.run();
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await workerRun;
    await closeRenderer?.();
    await db?.destroy();
    await env?.teardown();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Skips the test server's clock forward to `iso` (it only moves forward). */
  async function skipTo(iso: string): Promise<void> {
    const now = await env.currentTimeMs();
    const target = Date.parse(iso);
    expect(target, `the test server is already past ${iso}`).toBeGreaterThan(now);
    await env.sleep(target - now);
  }

  async function liveMarketingCampaign(quietHours: QuietHours): Promise<{ id: string; version: number }> {
    const campaigns = new CampaignRepository(db);
    const campaign = await campaigns.create({
      name: `Quiet ${quietHours.timezone}`,
      type: 'marketing',
      channel: 'email',
      content: { subject: 'Offers for {{ profile.firstName }}', html: '<p>Hi {{ profile.firstName }}</p>' },
      audience: { namespace: NAMESPACE, createMissingProfiles: false },
      quietHours,
    });
    await campaigns.markActivated(campaign.id, 'live');
    return campaign;
  }

  async function profile(userId: string, attributes: Record<string, unknown> = {}): Promise<void> {
    await new ProfileRepository(db).upsert(NAMESPACE, userId, { firstName: 'Ada', email: `${userId}@example.com`, ...attributes }, { email: 'in' });
  }

  /** Records the execution as the API would, then starts its workflow. */
  async function start(campaign: { id: string; version: number }, userIds: string[]) {
    const requestId = `qh-${randomUUID()}`;
    const workflowId = `trigger/${campaign.id}/${requestId}`;
    const claimed = await new ExecutionRepository(db).claim({
      id: `exec-${requestId}`,
      requestId,
      requestHash: requestId,
      campaignId: campaign.id,
      campaignVersion: campaign.version,
      workflowId,
      channel: 'email',
      recipients: userIds.map((userId) => ({ userId, namespace: NAMESPACE })),
    });
    if (claimed.kind !== 'created') throw new Error(`claim: ${JSON.stringify(claimed)}`);
    const handle = await env.client.workflow.start(triggerExecution, {
      taskQueue,
      workflowId,
      args: [{ executionId: claimed.executionId, requestId, campaignId: campaign.id }],
    });
    return { executionId: claimed.executionId, handle };
  }

  const deliveriesOf = (executionId: string) =>
    db.selectFrom('deliveries').select(['user_id', 'status', 'reason', 'not_before']).where('execution_id', '=', executionId).orderBy('position').execute();
  const outboxOf = (executionId: string) => db.selectFrom('outbox').select(['user_id']).where('execution_id', '=', executionId).execute();

  async function waitForDeferral(executionId: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const [delivery] = await deliveriesOf(executionId);
      if (delivery?.reason === 'quiet-hours-deferred') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`execution ${executionId} was never deferred: ${JSON.stringify(await deliveriesOf(executionId))}`);
  }

  /** The workflow's timers and when each fired, by the server's clock. */
  async function timersOf(handle: { fetchHistory(): Promise<{ events?: any[] | null }> }) {
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events
      .filter((e) => e.timerStartedEventAttributes)
      .map((e) => ({
        at: Number(e.eventTime.seconds) * 1000,
        ms:
          Number(e.timerStartedEventAttributes.startToFireTimeout.seconds) * 1000 +
          Math.round((e.timerStartedEventAttributes.startToFireTimeout.nanos ?? 0) / 1e6),
      }));
    const fired = events.filter((e) => e.timerFiredEventAttributes).map((e) => Number(e.eventTime.seconds) * 1000);
    const sendScheduled = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage')
      .map((e) => Number(e.eventTime.seconds) * 1000);
    return { started, fired, sendScheduled };
  }

  it("discards by the daylight-saving clock the morning after New York's spring-forward night, in each profile's own zone", async () => {
    await profile('new-york-morning');
    await profile('tokyo-evening', { timezone: 'Asia/Tokyo' });
    const campaign = await liveMarketingCampaign({ from: '21:00', to: '08:00', timezone: 'America/New_York', action: 'discard' });
    // Sunday 14 March 2027, 08:30 EDT in New York (07:30 by the standard-time clock: it would be quiet); 21:30 in Tokyo.
    await skipTo('2027-03-14T12:30:00Z');
    const { executionId, handle } = await start(campaign, ['new-york-morning', 'tokyo-evening']);
    expect(await handle.result()).toMatchObject({ sent: 1, excluded: 1 });
    expect(await deliveriesOf(executionId)).toEqual([
      { user_id: 'new-york-morning', status: 'sent', reason: null, not_before: null },
      { user_id: 'tokyo-evening', status: 'excluded', reason: 'quiet-hours', not_before: null },
    ]);
    expect((await timersOf(handle)).started).toEqual([]);
  });

  it('defers over the Europe/Paris spring-forward night until 08:00 summer time (06:00Z), on a timer', async () => {
    await profile('paris-user');
    const campaign = await liveMarketingCampaign({ from: '21:00', to: '08:00', timezone: 'Europe/Paris', action: 'defer' });
    // Saturday 27 March 2027, 23:00 CET; the clocks go 02:00 → 03:00 at 01:00Z.
    await skipTo('2027-03-27T22:00:00Z');
    const { executionId, handle } = await start(campaign, ['paris-user']);
    await waitForDeferral(executionId);
    expect(await deliveriesOf(executionId)).toEqual([
      { user_id: 'paris-user', status: 'pending', reason: 'quiet-hours-deferred', not_before: '2027-03-28T06:00:00.000Z' },
    ]);
    expect(await outboxOf(executionId)).toEqual([]);

    const counts = await handle.result();
    expect(counts).toMatchObject({ sent: 1, failed: 0, excluded: 0 });
    const timers = await timersOf(handle);
    expect(timers.started).toHaveLength(1);
    // The timer was set for the window's end in UTC: 08:00 CEST, not 08:00 CET (07:00Z).
    expect(Math.abs(timers.started[0]!.at + timers.started[0]!.ms - Date.parse('2027-03-28T06:00:00Z'))).toBeLessThan(2_000);
    expect(timers.fired[0]).toBeGreaterThanOrEqual(Date.parse('2027-03-28T06:00:00Z'));
    expect(timers.sendScheduled[0]).toBeGreaterThanOrEqual(timers.fired[0]!);
    expect(await deliveriesOf(executionId)).toEqual([{ user_id: 'paris-user', status: 'sent', reason: null, not_before: '2027-03-28T06:00:00.000Z' }]);
    expect(await outboxOf(executionId)).toEqual([{ user_id: 'paris-user' }]);
  });

  it('defers over the America/New_York fall-back night until 07:00 standard time (12:00Z)', async () => {
    await profile('ny-user');
    const campaign = await liveMarketingCampaign({ from: '22:00', to: '07:00', timezone: 'America/New_York', action: 'defer' });
    // Saturday 6 November 2027, 23:00 EDT; the clocks go 02:00 → 01:00 at 06:00Z.
    await skipTo('2027-11-07T03:00:00Z');
    const { executionId, handle } = await start(campaign, ['ny-user']);
    await waitForDeferral(executionId);
    expect(await handle.result()).toMatchObject({ sent: 1 });
    const timers = await timersOf(handle);
    expect(Math.abs(timers.started[0]!.at + timers.started[0]!.ms - Date.parse('2027-11-07T12:00:00Z'))).toBeLessThan(2_000);
    expect(timers.fired[0]).toBeGreaterThanOrEqual(Date.parse('2027-11-07T12:00:00Z'));
    expect(await deliveriesOf(executionId)).toEqual([{ user_id: 'ny-user', status: 'sent', reason: null, not_before: '2027-11-07T12:00:00.000Z' }]);
  });
});
