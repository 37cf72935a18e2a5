import type { Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import { sweepOrphanedExecutions } from '../../workflows/sweep-orphaned-executions';
import { orphanSweepScheduleId } from '../../workflows/workflow-ids';
import { ensurePeriodicSchedule, type ScheduleMode, type ScheduleState } from './ensure-schedule';

/** Makes sure Temporal runs the orphan sweep for this deployment every HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS. */
export function ensureOrphanSweepSchedule(client: Client, config: HeraldConfig, mode: ScheduleMode): Promise<ScheduleState> {
  const { taskQueue } = config.temporal;
  return ensurePeriodicSchedule(
    client,
    {
      scheduleId: orphanSweepScheduleId(taskQueue),
      workflowType: sweepOrphanedExecutions,
      input: {},
      taskQueue,
      intervalSeconds: config.orphanSweep.intervalSeconds,
      summary: `Orphan sweep: close executions on task queue "${taskQueue}" whose workflow never started or ended abnormally`,
      details:
        'Checks running executions claimed more than HERALD_ORPHAN_GRACE_SECONDS ago against their workflow in Temporal: no workflow fails them as not-started; a terminated, timed-out, failed or canceled one fails them with that reason. The result counts the executions checked and marked.',
    },
    mode,
  );
}
