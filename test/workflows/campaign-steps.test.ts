/**
 * Campaign steps in workflow time, in Temporal's time-skipping test environment: the real
 * `campaignStepsExecution` workflow (workflows/campaign-steps-execution.ts) waits on durable
 * timers the test server skips, so a P7D delay passes in milliseconds and nothing here waits on
 * the wall clock for a step.
 *
 * - The workflow's own decisions run against stub activities shaped like Herald's (typed against
 *   HeraldActivities, so a renamed activity or a changed input breaks this file); each call
 *   records its input and the workflow time the server scheduled it at.
 * - A worker shut down while a run waits in a delay runs Herald's own activities on a real SQLite
 *   database and the outbox: a second worker, with a fresh connection to the same database and
 *   the same task queue, finishes the run and sends its message exactly once.
 *
 * The Java test server comes from Maven Central (temporal/test-server-binary.ts); without a JVM
 * or Maven the file is skipped, saying why.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../support/time-skipping';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedStepSend } from '../../activities/campaign-steps';
import { createActivities, type HeraldActivities } from '../../activities/index';
import { selectEmailProvider } from '../../src/channels/email/select-email-provider';
import { loadConfig } from '../../src/config/env';
import { type HeraldDb, openMigratedDatabase } from '../../src/db/database';
import type { PlannedStep } from '../../src/domain/campaign-steps';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { ExecutionRepository } from '../../src/repositories/executions';
import { OutboxRepository } from '../../src/repositories/outbox';
import { createTemplateRenderer } from '../../src/rendering/template-renderer';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { campaignStepsExecution, type CampaignStepsExecutionResult } from '../../workflows/campaign-steps-execution';
import { cancelRunSignal, eventArrivedSignal } from '../../workflows/campaign-steps-signals';
import { executionWorkflowId } from '../../workflows/workflow-ids';

const executable = resolveTestServerExecutable((line) => console.log(`[campaign-steps test] ${line}`));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The activities the steps workflow calls, as Herald declares them. */
type StepActivities = Pick<
  HeraldActivities,
  | 'beginStepRun'
  | 'recordStepStatus'
  | 'joinDigest'
  | 'closeDigest'
  | 'checkStepCondition'
  | 'openEventWait'
  | 'closeEventWait'
  | 'prepareStepSend'
  | 'sendMessage'
  | 'closeExecution'
>;
type ActivityName = keyof StepActivities;

/** One stubbed execution: the plan the workflow gets, and who its recipients are (which only the stubs know). */
interface Scenario {
  plan: PlannedStep[];
  positions: number[];
  /** What joinDigest answers; a digest that opens closes after its window. */
  digest?: { kind: 'joined'; digestExecutionId: string };
}

interface Call {
  activity: ActivityName;
  input: any;
  /** When the server scheduled the activity, in workflow time. */
  scheduledMs: number;
  /** When the stub ran, on the wall clock. */
  wallMs: number;
}

interface StubRun {
  scenario: Scenario;
  calls: Call[];
}

const runs = new Map<string, StubRun>();

/** What only Herald's database would hold: the stubs' recipients, whose userId no workflow may see. */
const userIdOf = (position: number) => `steps-person-${position}@example.com`;

function called(executionId: string, activity: ActivityName, input: unknown): StubRun {
  const run = runs.get(executionId);
  if (!run) throw new Error(`no scenario for ${executionId}`);
  run.calls.push({ activity, input, scheduledMs: Context.current().info.scheduledTimestampMs, wallMs: performance.now() });
  return run;
}

/** Herald's step activities over an in-memory run instead of the database, the renderer and a provider. */
const activities: StepActivities = {
  async beginStepRun(input) {
    const { scenario } = called(input.executionId, 'beginStepRun', input);
    return { kind: 'run', plan: scenario.plan, positions: scenario.positions };
  },
  async recordStepStatus(input) {
    called(input.executionId, 'recordStepStatus', input);
  },
  async joinDigest(input) {
    const { scenario } = called(input.executionId, 'joinDigest', input);
    const window = scenario.plan[0]?.type === 'digest' ? scenario.plan[0].waitMs : 0;
    return scenario.digest ?? { kind: 'opened', closesAtMs: input.nowMs + window };
  },
  async closeDigest(input) {
    called(input.executionId, 'closeDigest', input);
    return { count: 1 };
  },
  async checkStepCondition(input) {
    called(input.executionId, 'checkStepCondition', input);
    return { holds: true };
  },
  async openEventWait(input) {
    called(input.executionId, 'openEventWait', input);
  },
  async closeEventWait(input) {
    called(input.executionId, 'closeEventWait', input);
  },
  async prepareStepSend(input): Promise<PreparedStepSend> {
    called(input.executionId, 'prepareStepSend', input);
    return { kind: 'ready', position: input.position + 1000 * input.sendOrdinal };
  },
  async sendMessage(input) {
    called(input.executionId, 'sendMessage', input);
    return { messageId: `stub-${input.executionId}-${input.position}` };
  },
  async closeExecution(input) {
    called(input.executionId, 'closeExecution', input);
    const count = (status: string) => input.outcomes.filter((o) => o.status === status).length;
    return { sent: count('sent'), failed: count('failed'), excluded: count('excluded') };
  },
};

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ms = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

/** Polls on the wall clock, while workflow time stands still (the server skips only while a result is awaited). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never saw ${what}`);
}

describe.skipIf(!executable)('campaign steps in workflow time (time-skipping test server)', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // keep the existing runtime
    }
    [env, workflowBundle] = await Promise.all([startTimeSkipping(executable!), bundleWorkflows()]);
  }, 180_000);

  afterAll(async () => {
    await env?.teardown();
  });

  describe('the workflow, with stubbed activities', () => {
    let worker: Worker;
    let workerRun: Promise<void>;
    const taskQueue = `campaign-steps-${randomUUID()}`;

    beforeAll(async () => {
      worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
      workerRun = worker.run();
    });

    afterAll(async () => {
      worker?.shutdown();
      await workerRun;
    });

    /** Starts the workflow on a stubbed execution; the caller awaits its result (time skips meanwhile). */
    async function start(scenario: Scenario) {
      const executionId = `exec-${randomUUID()}`;
      const run: StubRun = { scenario, calls: [] };
      runs.set(executionId, run);
      const workflowId = executionWorkflowId('cmp-test', executionId);
      const handle = await env.client.workflow.start(campaignStepsExecution, {
        taskQueue,
        workflowId,
        args: [{ executionId, requestId: executionId, campaignId: 'cmp-test' }],
      });
      const callsOf = (activity: ActivityName) => run.calls.filter((c) => c.activity === activity);
      /** The first call of `activity` that `match` accepts, once the workflow made it. */
      const callOf = (activity: ActivityName, match: (input: any) => boolean = () => true) =>
        eventually(`${activity} of ${executionId}`, () => callsOf(activity).find((c) => match(c.input)));
      const history = async () => (await handle.fetchHistory()).events ?? [];
      return { executionId, handle, run, callsOf, callOf, history };
    }

    const timers = (events: HistoryEvent[]) => events.filter((e) => e.timerStartedEventAttributes);

    it('a P7D delay passes in milliseconds of wall time, and the send happens seven days later in workflow time', async () => {
      const { executionId, handle, callsOf, history } = await start({
        plan: [
          { id: 'week', type: 'delay', waitMs: 7 * DAY },
          { id: 'hello', type: 'send', channel: 'email' },
        ],
        positions: [0],
      });
      expect(await handle.result()).toEqual({ executionId, sent: 1, failed: 0, excluded: 0 });
      // From the delay's start to the send's preparation: 604,800,000 ms of workflow time, a blink of
      // the wall clock (two workflow tasks and the skipped timer; the bound allows for a busy machine).
      const [waiting] = callsOf('recordStepStatus');
      const [prepared] = callsOf('prepareStepSend');
      expect(waiting!.input).toMatchObject({ stepId: 'week', status: 'waiting' });
      expect(prepared!.wallMs - waiting!.wallMs).toBeLessThan(2_000);
      const [begun] = callsOf('beginStepRun');
      const [sent] = callsOf('sendMessage');
      expect(sent!.scheduledMs - begun!.input.nowMs).toBeGreaterThanOrEqual(7 * DAY);
      expect(prepared!.input.nowMs - begun!.input.nowMs).toBeGreaterThanOrEqual(7 * DAY);
      // One timer, for what is left of the week once the delay's status is recorded.
      const [timer, ...more] = timers(await history()).map((e) => ms(e.timerStartedEventAttributes!.startToFireTimeout));
      expect(more).toEqual([]);
      expect(timer).toBeGreaterThan(7 * DAY - 60_000);
      expect(timer).toBeLessThanOrEqual(7 * DAY);
    });

    it('a cancellation during a waitForEvent stops the recipient without sending', async () => {
      const { executionId, handle, callOf, callsOf } = await start({
        plan: [
          { id: 'paid', type: 'waitForEvent', event: 'order.paid', waitMs: DAY, ifEvent: 'stop', ifTimeout: 'continue' },
          { id: 'remind', type: 'send', channel: 'email' },
        ],
        positions: [0],
      });
      await callOf('openEventWait');
      await handle.signal(cancelRunSignal);
      expect(await handle.result()).toEqual({ executionId, sent: 0, failed: 0, excluded: 1 });
      expect(callsOf('prepareStepSend')).toHaveLength(0);
      expect(callsOf('sendMessage')).toHaveLength(0);
      expect(callsOf('closeEventWait').map((c) => c.input)).toEqual([{ executionId, stepId: 'paid', position: 0, ended: 'cancelled', stops: true }]);
      expect(callsOf('closeExecution')[0]!.input.outcomes).toEqual([{ position: 0, status: 'excluded', reason: 'cancelled' }]);
      // Cancelled well before the timeout: no day passed in workflow time.
      expect(callsOf('closeEventWait')[0]!.scheduledMs - callsOf('openEventWait')[0]!.scheduledMs).toBeLessThan(DAY);
    });

    it('two recipients take different paths, each on its own: one gets its event and is sent at once, the other times out', async () => {
      const { executionId, handle, callOf, callsOf } = await start({
        plan: [
          { id: 'paid', type: 'waitForEvent', event: 'order.paid', waitMs: HOUR, ifEvent: 'continue', ifTimeout: 'stop' },
          { id: 'thanks', type: 'send', channel: 'email' },
        ],
        positions: [0, 1],
      });
      const opened = await callOf('openEventWait', (input) => input.position === 1);
      await callOf('openEventWait', (input) => input.position === 0);
      await handle.signal(eventArrivedSignal, { stepId: 'paid', positions: [0] });
      // Recipient 0 is sent while recipient 1 still waits: workflow time has not moved to its timeout.
      const sent = await callOf('sendMessage');
      expect(sent.input).toEqual({ executionId, position: 0 });
      expect(sent.scheduledMs - opened.scheduledMs).toBeLessThan(HOUR);
      expect(callsOf('closeEventWait').map((c) => c.input.position)).toEqual([0]);

      expect(await handle.result()).toEqual({ executionId, sent: 1, failed: 0, excluded: 1 });
      expect(callsOf('sendMessage')).toHaveLength(1);
      const closes = callsOf('closeEventWait');
      expect(closes.map((c) => c.input)).toEqual([
        { executionId, stepId: 'paid', position: 0, ended: 'event', stops: false },
        { executionId, stepId: 'paid', position: 1, ended: 'timeout', stops: true },
      ]);
      // The timeout counts from the workflow task that computed untilMs, which the server stamps a
      // few milliseconds before it schedules openEventWait: compare with untilMs, not with that stamp.
      expect(opened.input.untilMs - opened.scheduledMs).toBeGreaterThan(HOUR - 60_000);
      expect(closes[1]!.scheduledMs).toBeGreaterThanOrEqual(opened.input.untilMs);
      expect(callsOf('closeExecution')[0]!.input.outcomes).toEqual([
        { position: 0, status: 'sent' },
        { position: 1, status: 'excluded', reason: 'stopped-by-event-timeout' },
      ]);
    });

    it('a trigger that joins a digest returns at once with the digestExecutionId, waiting on nothing', async () => {
      const { executionId, handle, callsOf, history } = await start({
        plan: [
          { id: 'gather', type: 'digest', waitMs: 10 * 60_000 },
          { id: 'email', type: 'send', channel: 'email' },
        ],
        positions: [0],
        digest: { kind: 'joined', digestExecutionId: 'exec-first' },
      });
      const result: CampaignStepsExecutionResult = await handle.result();
      expect(result).toEqual({ executionId, digestExecutionId: 'exec-first' });
      const events = await history();
      expect(timers(events)).toHaveLength(0);
      const runMs = ms(events.at(-1)?.eventTime) - ms(events[0]?.eventTime);
      expect(runMs).toBeLessThan(60_000);
      expect(callsOf('joinDigest')).toHaveLength(1);
      // The run that opened the digest closes this execution with it; this one closes nothing itself.
      for (const activity of ['closeDigest', 'prepareStepSend', 'sendMessage', 'closeExecution'] as const) expect(callsOf(activity)).toHaveLength(0);
    });

    it('during a delay, current details say which delay until when, with no userId, and the timer is named after the step', async () => {
      const { executionId, handle, callOf } = await start({
        plan: [
          { id: 'cool-off', type: 'delay', waitMs: 2 * HOUR },
          { id: 'hello', type: 'send', channel: 'email' },
        ],
        positions: [0],
      });
      const waiting = await callOf('recordStepStatus', (input) => input.status === 'waiting');
      const until = new Date(waiting.input.untilMs).toISOString();
      const details = await eventually('the delay in current details', async () => {
        const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        return currentDetails ? currentDetails : undefined;
      });
      expect(details).toContain(`delay "cool-off" until ${until}`);
      expect(details).toBe(`recipient #0: delay "cool-off" until ${until}`);
      expect(details).not.toContain(userIdOf(0));
      expect(details).not.toContain('@');

      const events = (await handle.fetchHistory()).events ?? [];
      const [timer] = timers(events);
      expect(defaultPayloadConverter.fromPayload(timer!.userMetadata!.summary as never)).toBe('delay "cool-off"');

      expect(await handle.result()).toEqual({ executionId, sent: 1, failed: 0, excluded: 0 });
      const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(currentDetails ?? '').toBe('');
    });
  });

  describe("a worker shut down while a run waits in a delay (Herald's activities, SQLite, the outbox)", () => {
    const taskQueue = `campaign-steps-restart-${randomUUID()}`;
    let dataDir: string;
    let config: ReturnType<typeof loadConfig>;
    /** What stops the worker that runs now: the worker, its renderer and its database connection. */
    let stopWorker: (() => Promise<void>) | undefined;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'herald-steps-restart-'));
      config = loadConfig({ HERALD_DATA_DIR: dataDir, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, PORT: '1' });
    });

    afterAll(async () => {
      await stopWorker?.();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    /**
     * A worker as a new process would have it: its own Temporal connection, database connection,
     * renderer and activities, and an empty workflow cache; the same task queue and database file.
     * `maxCachedWorkflows: 0` keeps a worker off a sticky task queue: the test server never moves a
     * task from a stopped worker's sticky queue back to the task queue (a real server does, after
     * the sticky schedule-to-start timeout), so the run would wait for the stopped worker for ever.
     */
    async function startWorker({ maxCachedWorkflows }: { maxCachedWorkflows?: number } = {}): Promise<HeraldDb> {
      const db = await openMigratedDatabase(config.database);
      const renderer = createTemplateRenderer(config.render);
      const connection = await NativeConnection.connect({ address: env.address });
      const worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle,
        ...(maxCachedWorkflows !== undefined && { maxCachedWorkflows }),
        activities: createActivities({
          db,
          emailProvider: selectEmailProvider(config.email, new OutboxRepository(db)),
          emailFrom: config.email.from,
          temporal: env.client,
          orphanGraceSeconds: config.orphanSweep.graceSeconds,
          retentionDays: config.retention.days,
          audienceMaxRuntimeMs: config.audienceMaxRuntimeMs,
          renderer,
        }),
      });
      const run = worker.run();
      stopWorker = async () => {
        stopWorker = undefined;
        worker.shutdown();
        await run;
        await connection.close();
        await renderer.close();
        await db.destroy();
      };
      return db;
    }

    async function waitingInDelay(db: HeraldDb, executionId: string, handle: WorkflowHandle): Promise<void> {
      await eventually('the run waiting in its delay', async () => {
        const step = await db
          .selectFrom('execution_steps')
          .select('status')
          .where('execution_id', '=', executionId)
          .where('step_id', '=', 'wait')
          .executeTakeFirst();
        // Waiting in the database, and the timer started in Temporal.
        if (step?.status !== 'waiting') return undefined;
        const events = (await handle.fetchHistory()).events ?? [];
        return events.some((e) => e.timerStartedEventAttributes) ? true : undefined;
      });
    }

    it('a new worker on the same task queue and database finishes the run after the delay and sends exactly once', async () => {
      let db = await startWorker({ maxCachedWorkflows: 0 });
      const campaigns = new CampaignRepository(db);
      const campaign = await campaigns.create({
        name: 'Restart mid-delay',
        type: 'transactional',
        channel: 'email',
        content: { subject: 'Hello {{ context.name }}', html: '<p>Hi {{ context.name }}</p>' },
        audience: { namespace: 'crm', createMissingProfiles: true },
        steps: [
          { id: 'wait', type: 'delay', duration: 'P2D' },
          { id: 'hello', type: 'send' },
        ],
      });
      await campaigns.markActivated(campaign.id, 'live');
      const requestId = `restart-${randomUUID()}`;
      const workflowId = executionWorkflowId(campaign.id, requestId);
      const claimed = await new ExecutionRepository(db).claim({
        id: `exec-${requestId}`,
        requestId,
        requestHash: requestId,
        campaignId: campaign.id,
        campaignVersion: campaign.version,
        workflowId,
        channel: 'email',
        recipients: [{ userId: 'ada', namespace: 'crm', channelData: { emailAddress: 'ada@example.com' } }],
        context: { name: 'Ada' },
      });
      if (claimed.kind !== 'created') throw new Error(`claim: ${JSON.stringify(claimed)}`);
      const { executionId } = claimed;
      const handle = await env.client.workflow.start(campaignStepsExecution, {
        taskQueue,
        workflowId,
        args: [{ executionId, requestId, campaignId: campaign.id }],
      });
      await waitingInDelay(db, executionId, handle);

      await stopWorker!();
      // Most of the delay passes in skipped time while no worker runs. Its last two seconds pass on
      // the clock: once the fired timer's task waits for a worker, the server skips no further.
      await env.sleep(2 * DAY - 2_000);
      await eventually('the timer fired with no worker', async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        return events.some((e) => e.timerFiredEventAttributes) ? true : undefined;
      });
      expect((await handle.describe()).status.name).toBe('RUNNING');

      db = await startWorker();
      expect(await handle.result()).toEqual({ executionId, sent: 1, failed: 0, excluded: 0 });
      const outbox = await db.selectFrom('outbox').select(['to', 'subject', 'idempotency_key']).where('execution_id', '=', executionId).execute();
      expect(outbox).toEqual([expect.objectContaining({ to: 'ada@example.com', subject: 'Hello Ada' })]);
      const delivery = await db.selectFrom('deliveries').select(['status']).where('execution_id', '=', executionId).execute();
      expect(delivery).toEqual([{ status: 'sent' }]);

      // One run from start to end: begun once, one timer that fired, one send.
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = (name: string) => events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
      expect(scheduled('beginStepRun')).toHaveLength(1);
      expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
      expect(events.filter((e) => e.timerFiredEventAttributes)).toHaveLength(1);
      expect(scheduled('prepareStepSend')).toHaveLength(1);
      expect(scheduled('sendMessage')).toHaveLength(1);
    });
  });
});
