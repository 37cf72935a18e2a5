import type { Client } from '@temporalio/client';
import type { HeraldConfig } from '../config/env';
import { orphanSweepScheduleId, reportRollupScheduleId, retentionScheduleId } from '../../workflows/workflow-ids';
import type { ScheduleMode, ScheduleState } from './ensure-schedule';
import { ensureOrphanSweepSchedule } from './orphan-sweep-schedule';
import { ensureReportRollupSchedule } from './report-rollup-schedule';
import { ensureRetentionSchedule } from './retention-schedule';

export interface HousekeepingSchedule {
  scheduleId: string;
  /** What it does, for log lines. */
  purpose: string;
  /** The environment variable its interval comes from. */
  setting: string;
  configuredSeconds: number;
  state: ScheduleState;
}

/**
 * The deployment's housekeeping schedules, one of each per task queue, however many workers run:
 * the orphan sweep, the retention purge and the report-rollup fold. Workers call this in `create-only` mode; the deploy
 * step (`npm run schedules`) and `npm start` call it in `configure` mode.
 */
export async function ensureHousekeepingSchedules(client: Client, config: HeraldConfig, mode: ScheduleMode): Promise<HousekeepingSchedule[]> {
  const { taskQueue } = config.temporal;
  return [
    {
      scheduleId: orphanSweepScheduleId(taskQueue),
      purpose: `closes executions older than ${config.orphanSweep.graceSeconds} s whose workflow never started`,
      setting: 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS',
      configuredSeconds: config.orphanSweep.intervalSeconds,
      state: await ensureOrphanSweepSchedule(client, config, mode),
    },
    {
      scheduleId: retentionScheduleId(taskQueue),
      purpose: `purges delivery details older than ${config.retention.days} days`,
      setting: 'HERALD_RETENTION_SWEEP_INTERVAL_SECONDS',
      configuredSeconds: config.retention.intervalSeconds,
      state: await ensureRetentionSchedule(client, config, mode),
    },
    {
      scheduleId: reportRollupScheduleId(taskQueue),
      purpose: 'folds delivery changes into the report rollups',
      setting: 'HERALD_REPORT_FOLD_INTERVAL_SECONDS',
      configuredSeconds: config.reports.foldIntervalSeconds,
      state: await ensureReportRollupSchedule(client, config, mode),
    },
  ];
}

const OUTCOME_WORDS = { created: 'created', unchanged: 'already set up', updated: 'interval updated', differs: 'left as it is' } as const;

export function describeHousekeepingSchedule(schedule: HousekeepingSchedule): string {
  const { scheduleId, purpose, state } = schedule;
  return `schedule ${scheduleId} (${OUTCOME_WORDS[state.outcome]}) runs every ${state.intervalSeconds} s and ${purpose}`;
}

/** Why a worker's setting is not in effect, and how to apply it; undefined when it is. */
export function housekeepingScheduleWarning(schedule: HousekeepingSchedule): string | undefined {
  if (schedule.state.outcome !== 'differs') return undefined;
  return (
    `schedule ${schedule.scheduleId} runs every ${schedule.state.intervalSeconds} s, not the ${schedule.configuredSeconds} s that ${schedule.setting} asks for here. ` +
    'Workers never change a schedule that exists, so replicas cannot overwrite each other; run `npm run schedules` with the new setting to apply it.'
  );
}
