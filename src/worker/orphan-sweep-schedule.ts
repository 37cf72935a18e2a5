import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import { sweepOrphanedExecutions } from '../../workflows/sweep-orphaned-executions';
import { orphanSweepScheduleId } from '../../workflows/workflow-ids';

export type OrphanSweepScheduleOutcome = 'created' | 'updated' | 'unchanged';

export class OrphanSweepScheduleError extends Error {
  override name = 'OrphanSweepScheduleError';
}

/**
 * Makes sure Temporal runs the orphan sweep for this deployment every interval. Every worker
 * calls it at startup, so it must be idempotent: the first creates the schedule, the others find
 * it and only bring its interval in line with their configuration. Everything else about an
 * existing schedule, a pause by an operator included, is left as it is.
 */
export async function ensureOrphanSweepSchedule(client: Client, config: HeraldConfig): Promise<OrphanSweepScheduleOutcome> {
  const scheduleId = orphanSweepScheduleId(config.temporal.taskQueue);
  try {
    return await createOrAlign(client, config, scheduleId);
  } catch (error) {
    throw new OrphanSweepScheduleError(`Could not create or update the Temporal schedule ${scheduleId} that sweeps orphaned executions: ${(error as Error).message}`, { cause: error });
  }
}

async function createOrAlign(client: Client, config: HeraldConfig, scheduleId: string): Promise<OrphanSweepScheduleOutcome> {
  const { taskQueue } = config.temporal;
  const { intervalSeconds } = config.orphanSweep;
  const everyMs = intervalSeconds * 1000;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: sweepOrphanedExecutions,
        workflowId: scheduleId,
        taskQueue,
        args: [{}],
        staticSummary: `Orphan sweep: fail executions on task queue "${taskQueue}" whose workflow never started`,
        staticDetails: 'Checks running executions claimed more than HERALD_ORPHAN_GRACE_SECONDS ago; one Temporal has no workflow for becomes failed (not-started). The result counts the executions checked and marked.',
      },
      policies: {
        // A sweep still walking a large backlog is not joined by a second one.
        overlap: ScheduleOverlapPolicy.SKIP,
        // After an outage one sweep catches up with everything, so missed runs are not replayed.
        catchupWindow: Math.max(everyMs, 10_000),
      },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  const intervals = current.spec.intervals ?? [];
  if (intervals.length === 1 && Number(intervals[0]!.every) === everyMs && !intervals[0]!.offset) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every: everyMs }] } }));
  return 'updated';
}
