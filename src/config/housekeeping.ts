import { z } from 'zod';
import { wholeNumber } from './zod-helpers';

/** The three housekeeping schedules (src/worker/housekeeping-schedules.ts): orphan sweep, retention, report rollups. */
export const housekeepingVariables = z.object({
  HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: z.coerce
    .number({ error: 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be a number of seconds, e.g. 60' })
    .int('HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be a whole number of seconds, e.g. 60')
    .min(1, 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be at least 1')
    .max(86_400, 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be at most 86400 (a day)')
    .default(60),
  // An execution younger than this may still have its workflow start in flight (the API waits
  // up to 5 s for Temporal), so the floor keeps a slow start from being swept as an orphan.
  HERALD_ORPHAN_GRACE_SECONDS: z.coerce
    .number({ error: 'HERALD_ORPHAN_GRACE_SECONDS must be a number of seconds, e.g. 120' })
    .int('HERALD_ORPHAN_GRACE_SECONDS must be a whole number of seconds, e.g. 120')
    .min(10, "HERALD_ORPHAN_GRACE_SECONDS must be at least 10, well above the API's 5 s wait for Temporal")
    .default(120),
  HERALD_RETENTION_DAYS: wholeNumber('HERALD_RETENTION_DAYS', 30, 1, 3650, 'days'),
  HERALD_RETENTION_SWEEP_INTERVAL_SECONDS: wholeNumber('HERALD_RETENTION_SWEEP_INTERVAL_SECONDS', 3600, 1, 86_400, 'seconds'),
  HERALD_REPORT_FOLD_INTERVAL_SECONDS: wholeNumber('HERALD_REPORT_FOLD_INTERVAL_SECONDS', 60, 1, 86_400, 'seconds'),
});

export type HousekeepingVariables = z.infer<typeof housekeepingVariables>;

export interface HousekeepingConfig {
  /** Rendered content, outbox rows and delivery details older than `days` are purged by a Temporal Schedule. */
  retention: { days: number; intervalSeconds: number };
  /** HERALD_REPORT_FOLD_INTERVAL_SECONDS: how often the report rollups fold in what changed. */
  reports: { foldIntervalSeconds: number };
  /** Closing executions whose workflow never started (see workflows/sweep-orphaned-executions.ts). */
  orphanSweep: { intervalSeconds: number; graceSeconds: number };
}

export function housekeepingConfig(e: HousekeepingVariables): HousekeepingConfig {
  return {
    retention: { days: e.HERALD_RETENTION_DAYS, intervalSeconds: e.HERALD_RETENTION_SWEEP_INTERVAL_SECONDS },
    reports: { foldIntervalSeconds: e.HERALD_REPORT_FOLD_INTERVAL_SECONDS },
    orphanSweep: { intervalSeconds: e.HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS, graceSeconds: e.HERALD_ORPHAN_GRACE_SECONDS },
  };
}
