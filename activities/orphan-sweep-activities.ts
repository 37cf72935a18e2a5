import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CampaignRepository } from '../src/repositories/campaigns';
import { NOT_STARTED_REASON, type ExecutionRepository, type RunningExecution, type RunningExecutionCursor } from '../src/repositories/executions';
import { startExecutionWorkflow } from '../src/temporal-client/execution-start';
import { isTransientTemporalError } from '../src/temporal-client/transient-errors';
import { unitaryExecutionWorkflow } from '../src/temporal-client/unitary-execution-workflow';
import { executionWorkflowId } from '../workflows/workflow-ids';

/** Far more than one sweep needs; keeps a batch's history event and its run time bounded. */
const MAX_BATCH_SIZE = 500;

export interface OrphanSweepBatchInput {
  batchSize: number;
  after?: RunningExecutionCursor;
}

export interface OrphanSweepBatch {
  /** Running executions older than the grace period, not checked recently, that this batch asked Temporal about. */
  checked: number;
  /** Those whose workflow Temporal did not have and this batch started: unitary triggers of campaigns without steps (ADR 0011). */
  started?: number;
  startedExecutionIds?: string[];
  /** Those this batch failed: `not-started` when Temporal has no workflow (of any other kind), `workflow-terminated`, `workflow-timed-out`, `workflow-failed` or `workflow-canceled` from a workflow that ended without closing it. */
  marked: number;
  markedExecutionIds: string[];
  /** Set when the batch was full: where the next one resumes. */
  next?: RunningExecutionCursor;
  /** First batch only: high-throughput partitions past the count whose queued triggers it found, their dispatchers started (or already running). */
  dispatcherPartitions?: number[];
}

/** Workflow states that end a trigger workflow without its closing step: the execution must be closed for it. */
const ENDED_ABNORMALLY = new Set(['TERMINATED', 'TIMED_OUT', 'FAILED', 'CANCELLED']);

/** What Temporal says of an execution's workflow: absent, still running, or closed with a status. */
async function workflowState(temporal: Client, workflowId: string): Promise<'absent' | 'running' | 'completed' | { abnormal: string }> {
  try {
    const { status } = await temporal.workflow.getHandle(workflowId).describe();
    if (ENDED_ABNORMALLY.has(status.name)) return { abnormal: status.name.toLowerCase().replace(/_/g, '-') };
    return status.name === 'COMPLETED' ? 'completed' : 'running';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'absent';
    throw error;
  }
}

/** Running executions whose workflow was seen running are looked at again after this long. */
export const RECHECK_AFTER_SECONDS = 600;

export interface OrphanSweepDependencies {
  executions: ExecutionRepository;
  /** The campaign (at the execution's version) of an unstarted trigger, to start its workflow. */
  campaigns: Pick<CampaignRepository, 'getAtVersion'>;
  /** Asks Temporal whether an execution's workflow exists. */
  temporal: Client;
  /**
   * HERALD_ORPHAN_GRACE_SECONDS: at least 10 s, above the 5 s a call waits for the start it
   * answers after, so such a start in flight is never failed as an orphan. A start the API answered
   * before (ADR 0011) may be tried for up to 60 s: the sweep's own start of it joins that one.
   */
  graceSeconds: number;
  /**
   * Starts the high-throughput dispatchers of partitions past the worker's count that hold queued
   * triggers (ADR 0010, "Partitions"), and returns those partitions: the first batch of each sweep
   * calls it, so a trigger whose nudge was lost after its dispatcher ended waits a sweep interval,
   * not a worker's restart.
   */
  restartStrandedDispatchers?: () => Promise<number[]>;
}

export function orphanSweepActivities({ executions, campaigns, temporal, graceSeconds, restartStrandedDispatchers }: OrphanSweepDependencies) {
  /**
   * Starts the workflow of a unitary trigger whose campaign has no steps (ADR 0011): its call may
   * have been answered 202 from its claim before the start, so it is owed a run. False for any other
   * execution, which fails as not-started as before (its call was never answered 202 without a
   * workflow), and for one whose start Temporal refuses for good.
   */
  async function startOwedRun(candidate: RunningExecution): Promise<boolean> {
    if (candidate.kind !== 'unitary' || candidate.workflowId !== executionWorkflowId(candidate.campaignId, candidate.requestId)) return false;
    // Database errors fail the batch, which is tried again: the run stays owed.
    const campaign = await campaigns.getAtVersion(candidate.campaignId, candidate.campaignVersion);
    if (!campaign || (campaign.steps && campaign.steps.length > 0)) return false;
    const ref = { executionId: candidate.executionId, requestId: candidate.requestId, recipientCount: await executions.recipientCount(candidate.executionId) };
    try {
      // The same workflow, input and id as the API's start: a start of the API's still in flight is joined, not doubled.
      await startExecutionWorkflow(temporal, {
        campaign,
        requestId: candidate.requestId,
        workflowId: candidate.workflowId,
        taskQueue: activityInfo().taskQueue,
        start: unitaryExecutionWorkflow(campaign, ref),
      });
      return true;
    } catch (error) {
      // Temporal unavailable or rate-limiting: the batch fails and is tried again. Refused for good
      // (the start could never succeed): it fails as not-started, so one such execution never holds
      // up every later sweep.
      if (isTransientTemporalError(error)) throw error;
      log.warn('could not start the workflow of an execution the API had not started', {
        executionId: candidate.executionId,
        executionWorkflowId: candidate.workflowId,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  return {
    /**
     * Reconciles running executions, claimed more than the grace period ago, with their workflow's
     * state in Temporal: one Temporal does not know (the API stopped between its claim and the
     * start, or its start failed after the answer) is started when it is a unitary trigger of a
     * campaign without steps (its call may have been answered before the start, ADR 0011), and
     * otherwise (the client never retried) fails as `not-started`; one whose workflow was
     * terminated, timed out, failed or was canceled fails with that reason; one still running is
     * looked at again after RECHECK_AFTER_SECONDS. Safe to repeat: it only fails executions that
     * are still running. The activity keeps its name so sweeps already in flight replay.
     */
    async markNeverStartedExecutions({ batchSize, after }: OrphanSweepBatchInput): Promise<OrphanSweepBatch> {
      const limit = Math.min(Math.max(1, Math.floor(batchSize)), MAX_BATCH_SIZE);
      const dispatcherPartitions = after === undefined && restartStrandedDispatchers ? await restartStrandedDispatchers() : [];
      if (dispatcherPartitions.length > 0) {
        log.warn('high-throughput partitions past the count hold queued triggers: their dispatchers are running', { partitions: dispatcherPartitions });
      }
      const now = Date.now();
      const claimedBefore = new Date(now - graceSeconds * 1000).toISOString();
      const checkedBefore = new Date(now - RECHECK_AFTER_SECONDS * 1000).toISOString();
      const candidates = await executions.listRunningToCheck(claimedBefore, checkedBefore, limit, after);
      const markedExecutionIds: string[] = [];
      const startedExecutionIds: string[] = [];
      for (const candidate of candidates) {
        // Alive: a worker that dies mid-batch is noticed within the heartbeat timeout, not the batch's.
        heartbeat();
        const state = await workflowState(temporal, candidate.workflowId);
        if (state === 'running' || state === 'completed') {
          // A completed workflow closed its execution itself; one the database still shows running is looked at again later.
          await executions.markWorkflowChecked(candidate.executionId);
          continue;
        }
        if (state === 'absent' && (await startOwedRun(candidate))) {
          // Looked at again after RECHECK_AFTER_SECONDS, like any execution whose workflow runs.
          await executions.markWorkflowChecked(candidate.executionId);
          startedExecutionIds.push(candidate.executionId);
          log.warn('started the workflow of an execution the API had not started', {
            executionId: candidate.executionId,
            executionWorkflowId: candidate.workflowId,
            claimedAt: candidate.createdAt,
          });
          continue;
        }
        const reason = state === 'absent' ? NOT_STARTED_REASON : `workflow-${state.abnormal}`;
        if (await executions.failIfRunning(candidate.executionId, reason)) {
          markedExecutionIds.push(candidate.executionId);
          log.warn("execution closed from its workflow's state", {
            executionId: candidate.executionId,
            executionWorkflowId: candidate.workflowId,
            claimedAt: candidate.createdAt,
            reason,
          });
        }
      }
      const last = candidates.at(-1);
      return {
        checked: candidates.length,
        marked: markedExecutionIds.length,
        markedExecutionIds,
        started: startedExecutionIds.length,
        startedExecutionIds,
        ...(candidates.length === limit && last && { next: { createdAt: last.createdAt, executionId: last.executionId } }),
        ...(dispatcherPartitions.length > 0 && { dispatcherPartitions }),
      };
    },
  };
}
