import type { Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import { purgeExpiredContent } from '../../workflows/purge-expired-content';
import { retentionScheduleId } from '../../workflows/workflow-ids';
import { ensurePeriodicSchedule, type ScheduleMode, type ScheduleState } from './ensure-schedule';

/** Makes sure Temporal purges expired delivery details every HERALD_RETENTION_SWEEP_INTERVAL_SECONDS. */
export function ensureRetentionSchedule(client: Client, config: HeraldConfig, mode: ScheduleMode): Promise<ScheduleState> {
  const { taskQueue } = config.temporal;
  return ensurePeriodicSchedule(
    client,
    {
      scheduleId: retentionScheduleId(taskQueue),
      workflowType: purgeExpiredContent,
      input: {},
      taskQueue,
      intervalSeconds: config.retention.intervalSeconds,
      summary: `Retention: purge delivery details older than HERALD_RETENTION_DAYS (task queue "${taskQueue}")`,
      details:
        'Deletes the context, deliveries, rendered messages and outbox copies of executions closed more than HERALD_RETENTION_DAYS ago. Executions keep their outcome counts.',
    },
    mode,
  );
}
