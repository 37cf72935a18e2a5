import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { orphanSweepActivities } from '../../activities/orphan-sweep-activities';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { ExecutionRepository } from '../../src/repositories/executions';
import { ensureOrphanSweepSchedule } from '../../src/worker/orphan-sweep-schedule';
import { describeSchedule } from '../support/schedule-description';
import type { OrphanSweepTotals } from '../../workflows/sweep-orphaned-executions';
import { activationWorkflowId, executionWorkflowId, orphanSweepScheduleId } from '../../workflows/workflow-ids';
import { startTcpProxy, type TcpProxy } from '../faults/support/tcp-proxy';
import { waitFor } from '../support/process-stack';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { sameDatabaseEnv, sharedDatabase, startHerald, type Herald } from '../support/herald-harness';

/** The smallest grace the configuration accepts; the sweep cannot close an orphan sooner. */
const GRACE_SECONDS = 10;
const ada = { userId: 'ada@example.com', namespace: 'email' };

/**
 * Two Heralds on one database, as one deployment: `stranded` is an API whose Temporal is
 * unreachable (a closed proxy), so its claims are written and their workflows never start;
 * `herald` is the same deployment's worker and API with a short sweep interval and grace. The
 * stranded API answers a trigger of a campaign without steps from its claim once
 * HERALD_START_WAIT_MS is over (ADR 0011), so the sweep owes it a run; a trigger of a campaign
 * with steps is answered only after its start, 503 here, so the sweep fails it as not-started.
 */
describe('orphan sweep', () => {
  let dataDir: string;
  let shared: Awaited<ReturnType<typeof sharedDatabase>> | undefined;
  let herald: Herald;
  let stranded: Herald;
  let temporalProxy: TcpProxy;
  let campaign: { id: string };
  let withSteps: { id: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-orphans-'));
    shared = await sharedDatabase(dataDir);
    const env = { ...shared.env, HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '1', HERALD_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS) };
    herald = await startHerald({ env });
    temporalProxy = await startTcpProxy(inject('temporalAddress'));
    stranded = await startHerald({ withoutWorker: true, temporalAddress: temporalProxy.address, env: { ...env, HERALD_START_WAIT_MS: '50' } });
    campaign = await liveCampaign(herald);
    withSteps = await liveCampaign(herald, { steps: [{ id: 'send', type: 'send' }] });
  });
  afterAll(async () => {
    await stranded?.stop();
    await herald?.stop();
    await temporalProxy?.close();
    await shared?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const executionStatus = async (executionId: string) => (await herald.request('GET', `/v1/executions/${executionId}`)).body;
  const outboxFor = async (executionId: string, campaignId = campaign.id) =>
    ((await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`)).body.items as { executionId: string }[]).filter((m) => m.executionId === executionId);
  const sweepSchedule = () => herald.client.schedule.getHandle(orphanSweepScheduleId(herald.config.temporal.taskQueue));

  const claimOf = async (requestId: string) => {
    const claim = await new ExecutionRepository(herald.db).findClaim(requestId);
    expect(claim, requestId).toBeDefined();
    return claim!.executionId;
  };

  it('starts the workflow of a trigger answered before its start, fails one of a campaign with steps as not-started, and leaves a completed execution alone', async () => {
    await temporalProxy.close();
    const answeredCall = { requestId: uniqueRequestId('answered'), campaignId: campaign.id, recipients: [{ ...ada, context: { code: 'early' } }] };
    const orphanCall = { requestId: uniqueRequestId('orphan'), campaignId: withSteps.id, recipients: [{ ...ada, context: { code: 'late' } }] };
    const [answered, refused] = await Promise.all([
      stranded.request('POST', '/v1/executions/unitary', answeredCall),
      stranded.request('POST', '/v1/executions/unitary', orphanCall),
    ]);
    // Accepted from its claim, synced to disk, while its start could not reach Temporal.
    expect(answered.status, JSON.stringify(answered.body)).toBe(202);
    expect(answered.body.executionId).toBe(await claimOf(answeredCall.requestId));
    // The client got no executionId and never retries; only the database knows the claim.
    expect(refused.status).toBe(503);
    const orphanId = await claimOf(orphanCall.requestId);
    for (const id of [answered.body.executionId, orphanId]) expect((await executionStatus(id)).status).toBe('running');

    // A normal trigger while the two age: its workflow runs and completes it.
    const normal = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('normal'), campaignId: campaign.id, recipients: [ada] });
    expect(normal.status).toBe(202);
    const completed = await herald.waitForExecution(normal.body.executionId);
    expect(completed.status).toBe('completed');

    const leftRunning = async (executionId: string) =>
      waitFor(
        `execution ${executionId} to leave running`,
        async () => {
          const execution = await executionStatus(executionId);
          return execution.status !== 'running' && execution;
        },
        (GRACE_SECONDS + 15) * 1000,
      );
    const [run, swept] = await Promise.all([leftRunning(answered.body.executionId), leftRunning(orphanId)]);
    expect(run).toMatchObject({ status: 'completed', recipients: [{ userId: 'ada@example.com', status: 'sent', messageId: expect.any(String) }] });
    expect(await outboxFor(answered.body.executionId)).toHaveLength(1);
    expect(swept).toMatchObject({
      status: 'failed',
      reason: 'not-started',
      recipients: [{ userId: 'ada@example.com', status: 'failed', reason: 'not-started' }],
    });
    for (const execution of [run, swept]) {
      expect(
        Date.parse(execution.completedAt) - Date.parse(execution.createdAt),
        'an execution younger than the grace period is never swept',
      ).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000);
    }

    // Two more sweeps after, and the three executions are exactly as they were.
    const taken = (await describeSchedule(sweepSchedule())).info.numActionsTaken;
    await waitFor('two more sweeps', async () => (await describeSchedule(sweepSchedule())).info.numActionsTaken >= taken + 2, 10_000);
    expect(await executionStatus(normal.body.executionId)).toEqual(completed);
    expect(await executionStatus(orphanId)).toEqual(swept);
    expect(await executionStatus(answered.body.executionId)).toEqual(run);
    expect(await outboxFor(answered.body.executionId)).toHaveLength(1);
    // A repeat of the answered call is that execution, and sends nothing more.
    const repeat = await herald.request('POST', '/v1/executions/unitary', answeredCall);
    expect([repeat.status, repeat.body.executionId, repeat.headers.get('idempotency-replay')]).toEqual([202, answered.body.executionId, 'true']);
    // Even asked directly, as a sweep racing the workflow's own completion would, it keeps its outcome.
    expect(await new ExecutionRepository(herald.db).failIfRunning(normal.body.executionId, 'not-started')).toBe(false);
    expect(await executionStatus(normal.body.executionId)).toEqual(completed);
  }, 90_000);

  it('shows each sweep in Temporal, with what it checked and marked', async () => {
    const description = await describeSchedule(sweepSchedule());
    expect(description.policies.overlap).toBe('SKIP');
    expect(description.spec.intervals?.map((interval) => interval.every)).toEqual([1000]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sweepOrphanedExecutions', taskQueue: herald.config.temporal.taskQueue });
    const runs = description.info.recentActions.map((action) =>
      herald.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId),
    );
    expect(runs.length).toBeGreaterThan(0);
    expect(runs[0]!.workflowId.startsWith(`${orphanSweepScheduleId(herald.config.temporal.taskQueue)}-`)).toBe(true);
    const results: OrphanSweepTotals[] = await Promise.all(runs.map((run) => run.result()));
    for (const result of results) expect(result).toEqual({ checked: expect.any(Number), marked: expect.any(Number), batches: 1 });
    // The two claims the stranded API left are the only executions of this deployment ever left
    // running past the grace period, and the runs that looked at them are among the last few: one
    // was started, the other marked.
    expect(results.reduce((sum, r) => sum + r.marked, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.checked, 0)).toBe(2);
  });

  it('a retry with the same requestId afterwards delivers once and ends completed', async () => {
    const [orphan] = await herald.db.selectFrom('executions').select(['id', 'request_id']).where('failure_reason', '=', 'not-started').execute();
    expect(orphan).toBeDefined();
    const retryCall = { requestId: orphan!.request_id, campaignId: withSteps.id, recipients: [{ ...ada, context: { code: 'late' } }] };
    const retried = await herald.request('POST', '/v1/executions/unitary', retryCall);
    expect(retried.status).toBe(202);
    expect(retried.body.executionId).toBe(orphan!.id);

    const completed = await waitFor(
      `execution ${orphan!.id} to complete`,
      async () => {
        const execution = await executionStatus(orphan!.id);
        return execution.status === 'completed' && execution;
      },
      15_000,
    );
    expect(completed).toMatchObject({ status: 'completed', recipients: [{ userId: 'ada@example.com', status: 'sent', messageId: expect.any(String) }] });
    expect(completed.reason).toBeUndefined();
    expect(completed.recipients[0].reason).toBeUndefined();

    // Another identical retry and two more sweeps change nothing and send nothing.
    expect((await herald.request('POST', '/v1/executions/unitary', retryCall)).body.executionId).toBe(orphan!.id);
    const taken = (await describeSchedule(sweepSchedule())).info.numActionsTaken;
    await waitFor('two more sweeps', async () => (await describeSchedule(sweepSchedule())).info.numActionsTaken >= taken + 2, 10_000);
    expect(await executionStatus(orphan!.id)).toEqual(completed);
    expect(await outboxFor(orphan!.id, withSteps.id)).toHaveLength(1);
  });

  it('a repeat of a call answered before its start runs the version the call was claimed under, after a version with steps went live', async () => {
    const versioned = await liveCampaign(herald);
    await temporalProxy.close();
    const call = { requestId: uniqueRequestId('versioned'), campaignId: versioned.id, recipients: [{ ...ada, context: { code: 'v1' } }] };
    const answered = await stranded.request('POST', '/v1/executions/unitary', call);
    expect(answered.status, JSON.stringify(answered.body)).toBe(202);
    // A second version, with a step, goes live before anything starts the first call's run.
    expect((await herald.request('PATCH', `/v1/campaigns/${versioned.id}`, { steps: [{ id: 'send', type: 'send' }] })).status).toBe(200);
    expect((await herald.request('POST', `/v1/campaigns/${versioned.id}/activate`)).body).toMatchObject({ status: 'live', version: 2 });
    const repeat = await herald.request('POST', '/v1/executions/unitary', call);
    expect([repeat.status, repeat.body.executionId, repeat.headers.get('idempotency-replay')]).toEqual([202, answered.body.executionId, 'true']);
    // Version 1's workflow, which sends; version 2's would read version 1's (empty) steps and send nothing.
    expect((await herald.client.workflow.getHandle(executionWorkflowId(versioned.id, call.requestId)).describe()).type).toBe('triggerExecution');
    const done = await herald.waitForExecution(answered.body.executionId);
    expect(done).toMatchObject({ status: 'completed', campaignVersion: 1, recipients: [{ userId: 'ada@example.com', status: 'sent' }] });
    expect(await outboxFor(answered.body.executionId, versioned.id)).toHaveLength(1);
  });

  it('is created once: workers never change it, even with another interval; the deploy step configures it in place', async () => {
    const before = await describeSchedule(sweepSchedule());
    const configured = herald.config.orphanSweep.intervalSeconds;
    const twoWorkers = await Promise.all([
      ensureOrphanSweepSchedule(herald.client, herald.config, 'create-only'),
      ensureOrphanSweepSchedule(herald.client, herald.config, 'create-only'),
    ]);
    expect(twoWorkers).toEqual([
      { outcome: 'unchanged', intervalSeconds: configured },
      { outcome: 'unchanged', intervalSeconds: configured },
    ]);
    // A replica with another setting leaves the schedule alone and reports what is in effect.
    const slower = { ...herald.config, orphanSweep: { ...herald.config.orphanSweep, intervalSeconds: configured + 1 } };
    expect(await ensureOrphanSweepSchedule(herald.client, slower, 'create-only')).toEqual({ outcome: 'differs', intervalSeconds: configured });
    expect((await describeSchedule(sweepSchedule())).spec.intervals?.map((interval) => interval.every)).toEqual([configured * 1000]);
    // `npm run schedules` applies it.
    expect(await ensureOrphanSweepSchedule(herald.client, slower, 'configure')).toEqual({ outcome: 'updated', intervalSeconds: configured + 1 });
    const after = await describeSchedule(sweepSchedule());
    expect(after.spec.intervals?.map((interval) => interval.every)).toEqual([(configured + 1) * 1000]);
    const { type, workflowType, workflowId, taskQueue, args, staticSummary, staticDetails } = before.action as Extract<
      typeof before.action,
      { type: 'startWorkflow' }
    >;
    expect(after.action).toMatchObject({ type, workflowType, workflowId, taskQueue, args, staticSummary, staticDetails });
    expect(after.policies).toEqual(before.policies);
    expect(after.info.createdAt).toEqual(before.info.createdAt);
    expect(await ensureOrphanSweepSchedule(herald.client, slower, 'configure')).toEqual({ outcome: 'unchanged', intervalSeconds: configured + 1 });
    // Back to the suite's interval, so the tests after this one sweep as often as before.
    expect((await ensureOrphanSweepSchedule(herald.client, herald.config, 'configure')).outcome).toBe('updated');
  });

  it('asks Temporal about an execution whose workflow runs for a long time once per recheck interval, not on every sweep', async () => {
    // A long-running execution: its workflow exists (the campaign's activation workflow stands in
    // for one that retries a provider for hours) and it was claimed well before the grace period.
    const executionId = `long-running-${uniqueRequestId()}`;
    await herald.db
      .insertInto('executions')
      .values({
        id: executionId,
        request_id: executionId,
        request_hash: 'x',
        campaign_id: campaign.id,
        campaign_version: 1,
        workflow_id: activationWorkflowId(campaign.id),
        status: 'running',
        failure_reason: null,
        created_at: new Date(Date.now() - 3_600_000).toISOString(),
        completed_at: null,
      })
      .execute();
    const row = () => herald.db.selectFrom('executions').select(['status', 'workflow_checked_at']).where('id', '=', executionId).executeTakeFirstOrThrow();
    const confirmed = await waitFor(
      'the sweep to confirm the workflow',
      async () => {
        const current = await row();
        return current.workflow_checked_at !== null && current;
      },
      15_000,
    );
    expect(confirmed.status).toBe('running');

    const taken = (await describeSchedule(sweepSchedule())).info.numActionsTaken;
    await waitFor('two more sweeps', async () => (await describeSchedule(sweepSchedule())).info.numActionsTaken >= taken + 2, 15_000);
    expect(await row(), 'later sweeps within RECHECK_AFTER_SECONDS neither look it up again nor fail it').toEqual(confirmed);
  });

  it('closes an execution whose workflow was terminated, from the workflow status, and looks again at one checked long ago', async () => {
    // A workflow that runs (on a queue no worker polls) and is then terminated by an operator.
    const requestId = uniqueRequestId('terminated');
    const call = { requestId, campaignId: campaign.id, recipients: [{ ...ada, context: { code: 'gone' } }] };
    const idle = await startHerald({ withoutWorker: true, env: sameDatabaseEnv(herald.config) });
    try {
      const accepted = await idle.request('POST', '/v1/executions/unitary', call);
      expect(accepted.status).toBe(202);
      const { executionId } = accepted.body;
      const workflowId = (await new ExecutionRepository(herald.db).findClaim(requestId))!.workflowId;
      // Seen running long ago: the next sweep must look again rather than trust that for ever.
      const longAgo = new Date(Date.now() - 3_600_000).toISOString();
      await herald.db.updateTable('executions').set({ created_at: longAgo, workflow_checked_at: longAgo }).where('id', '=', executionId).execute();
      await idle.client.workflow.getHandle(workflowId).terminate('operator terminated it');
      const closed = await waitFor(
        'the sweep to close the terminated execution',
        async () => {
          const status = await executionStatus(executionId);
          return status.status !== 'running' && status;
        },
        15_000,
      );
      expect(closed).toMatchObject({ status: 'failed', reason: 'workflow-terminated', recipients: [{ status: 'failed', reason: 'workflow-terminated' }] });
    } finally {
      await idle.stop();
    }
  });
});

/**
 * The sweep's activity itself, on a Herald of its own with no worker (so no scheduled sweep races
 * it): a run owed to an execution whose call may have been answered before its start (ADR 0011)
 * stays owed when the database fails under the batch, and the next batch starts it.
 */
describe('the orphan sweep, when the database fails under a batch', () => {
  let alone: Herald;
  beforeAll(async () => {
    alone = await startHerald({ withoutWorker: true });
  });
  afterAll(async () => {
    await alone?.stop();
  });

  it('fails the batch, to be tried again, leaves the owed run running, and the next batch starts it', async () => {
    const campaign = await liveCampaign(alone);
    const requestId = uniqueRequestId('db-blip');
    const executionId = `exec-${requestId}`;
    const executions = new ExecutionRepository(alone.db);
    const workflowId = executionWorkflowId(campaign.id, requestId);
    const claimed = await executions.claim({
      id: executionId,
      requestId,
      requestHash: 'x',
      campaignId: campaign.id,
      campaignVersion: campaign.version,
      workflowId,
      channel: 'email',
      recipients: [ada],
    });
    expect(claimed.kind).toBe('created');
    await alone.db
      .updateTable('executions')
      .set({ created_at: new Date(Date.now() - 3_600_000).toISOString() })
      .where('id', '=', executionId)
      .execute();
    const environment = new MockActivityEnvironment({ taskQueue: alone.config.temporal.taskQueue });

    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const failing = orphanSweepActivities({
      executions,
      campaigns: {
        getAtVersion: async () => {
          throw busy;
        },
      },
      temporal: alone.client,
      graceSeconds: GRACE_SECONDS,
    });
    await expect(environment.run(failing.markNeverStartedExecutions, { batchSize: 10 })).rejects.toThrow('database is locked');
    expect((await alone.request('GET', `/v1/executions/${executionId}`)).body.status).toBe('running');

    const healthy = orphanSweepActivities({ executions, campaigns: new CampaignRepository(alone.db), temporal: alone.client, graceSeconds: GRACE_SECONDS });
    expect(await environment.run(healthy.markNeverStartedExecutions, { batchSize: 10 })).toMatchObject({
      checked: 1,
      started: 1,
      startedExecutionIds: [executionId],
      marked: 0,
    });
    expect((await alone.client.workflow.getHandle(workflowId).describe()).type).toBe('triggerExecution');
    await alone.client.workflow.getHandle(workflowId).terminate('test done: no worker polls this queue');
  });
});
