import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ExecutionRepository } from '../../src/repositories/executions';
import { ensureOrphanSweepSchedule } from '../../src/worker/orphan-sweep-schedule';
import { describeSchedule } from '../support/schedule-description';
import type { OrphanSweepTotals } from '../../workflows/sweep-orphaned-executions';
import { activationWorkflowId, orphanSweepScheduleId } from '../../workflows/workflow-ids';
import { startTcpProxy, type TcpProxy } from '../faults/support/tcp-proxy';
import { waitFor } from '../support/process-stack';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { sameDatabaseEnv, sharedDatabase, startHerald, type Herald } from '../support/herald-harness';

/** The smallest grace the configuration accepts; the sweep cannot close an orphan sooner. */
const GRACE_SECONDS = 10;
const ada = { userId: 'ada@example.com', namespace: 'email' };

/**
 * Two Heralds on one database, as one deployment: `stranded` is an API whose Temporal is
 * unreachable (a closed proxy), so its claim is written and its workflow never starts; `herald`
 * is the same deployment's worker and API with a short sweep interval and grace.
 */
describe('orphan sweep', () => {
  let dataDir: string;
  let shared: Awaited<ReturnType<typeof sharedDatabase>> | undefined;
  let herald: Herald;
  let stranded: Herald;
  let temporalProxy: TcpProxy;
  let campaign: { id: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-orphans-'));
    shared = await sharedDatabase(dataDir);
    const env = { ...shared.env, HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '1', HERALD_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS) };
    herald = await startHerald({ env });
    temporalProxy = await startTcpProxy(inject('temporalAddress'));
    stranded = await startHerald({ withoutWorker: true, temporalAddress: temporalProxy.address, env });
    campaign = await liveCampaign(herald);
  });
  afterAll(async () => {
    await stranded?.stop();
    await herald?.stop();
    await temporalProxy?.close();
    await shared?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const executionStatus = async (executionId: string) => (await herald.request('GET', `/v1/executions/${executionId}`)).body;
  const outboxFor = async (executionId: string) =>
    ((await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}`)).body.items as { executionId: string }[]).filter(
      (m) => m.executionId === executionId,
    );
  const sweepSchedule = () => herald.client.schedule.getHandle(orphanSweepScheduleId(herald.config.temporal.taskQueue));

  it('fails a claim whose workflow never started as not-started, and leaves a completed execution alone', async () => {
    await temporalProxy.close();
    const orphanCall = { requestId: uniqueRequestId('orphan'), campaignId: campaign.id, recipients: [{ ...ada, context: { code: 'late' } }] };
    const refused = await stranded.request('POST', '/v1/executions/unitary', orphanCall);
    expect(refused.status).toBe(503);
    // The client got no executionId and never retries; only the database knows the claim.
    const claim = await new ExecutionRepository(herald.db).findClaim(orphanCall.requestId);
    expect(claim).toBeDefined();
    const orphanId = claim!.executionId;
    expect((await executionStatus(orphanId)).status).toBe('running');

    // A normal trigger while the orphan ages: its workflow runs and completes it.
    const normal = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('normal'), campaignId: campaign.id, recipients: [ada] });
    expect(normal.status).toBe(202);
    const completed = await herald.waitForExecution(normal.body.executionId);
    expect(completed.status).toBe('completed');

    const swept = await waitFor(
      `execution ${orphanId} to leave running`,
      async () => {
        const execution = await executionStatus(orphanId);
        return execution.status !== 'running' && execution;
      },
      (GRACE_SECONDS + 15) * 1000,
    );
    expect(swept).toMatchObject({
      status: 'failed',
      reason: 'not-started',
      recipients: [{ userId: 'ada@example.com', status: 'failed', reason: 'not-started' }],
    });
    expect(Date.parse(swept.completedAt) - Date.parse(swept.createdAt), 'an execution younger than the grace period is never swept').toBeGreaterThanOrEqual(
      GRACE_SECONDS * 1000,
    );

    // Two more sweeps after the mark, and the completed execution is exactly as it was.
    const taken = (await describeSchedule(sweepSchedule())).info.numActionsTaken;
    await waitFor('two more sweeps', async () => (await describeSchedule(sweepSchedule())).info.numActionsTaken >= taken + 2, 10_000);
    expect(await executionStatus(normal.body.executionId)).toEqual(completed);
    expect(await executionStatus(orphanId)).toEqual(swept);
    // Even asked directly, as a sweep racing the workflow's own completion would, it keeps its outcome.
    expect(await new ExecutionRepository(herald.db).failIfRunning(normal.body.executionId, 'not-started')).toBe(false);
    expect(await executionStatus(normal.body.executionId)).toEqual(completed);
  }, 60_000);

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
    // The orphan is the only execution of this deployment ever left running past the grace period,
    // and the run that closed it is among the last few.
    expect(results.reduce((sum, r) => sum + r.marked, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.checked, 0)).toBe(1);
  });

  it('a retry with the same requestId afterwards delivers once and ends completed', async () => {
    const [orphan] = await herald.db.selectFrom('executions').select(['id', 'request_id']).where('failure_reason', '=', 'not-started').execute();
    expect(orphan).toBeDefined();
    const retryCall = { requestId: orphan!.request_id, campaignId: campaign.id, recipients: [{ ...ada, context: { code: 'late' } }] };
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
    expect(await outboxFor(orphan!.id)).toHaveLength(1);
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
