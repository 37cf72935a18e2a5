import type { Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import { foldReportRollups } from '../../workflows/fold-report-rollups';
import { reportRollupScheduleId } from '../../workflows/workflow-ids';
import { ensurePeriodicSchedule, type ScheduleMode, type ScheduleState } from './ensure-schedule';

/** Makes sure Temporal folds delivery changes into the report rollups every HERALD_REPORT_FOLD_INTERVAL_SECONDS. */
export function ensureReportRollupSchedule(client: Client, config: HeraldConfig, mode: ScheduleMode): Promise<ScheduleState> {
  const { taskQueue } = config.temporal;
  return ensurePeriodicSchedule(
    client,
    {
      scheduleId: reportRollupScheduleId(taskQueue),
      workflowType: foldReportRollups,
      input: {},
      taskQueue,
      intervalSeconds: config.reports.foldIntervalSeconds,
      summary: `Reports: fold delivery changes into the report rollups (task queue "${taskQueue}")`,
      details: 'Counts new delivery outcomes and events into report_rollups, so that GET /v1/campaigns/{id}/report has little left to fold when it is asked.',
    },
    mode,
  );
}
