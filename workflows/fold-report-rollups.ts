import { proxyActivities } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';

const { foldReportRollups: fold } = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Started by the `herald/report-rollups/<taskQueue>` schedule: folds what changed since the last
 * fold into the report rollups, so that reports stay fast (they fold only what is newer than
 * this). One activity; its result is counts.
 */
/** Nothing to pass today; an object so the schedule's input can grow without a new workflow type. */
export type FoldReportRollupsInput = Record<string, never>;

export async function foldReportRollups(_input: FoldReportRollupsInput = {}): Promise<{ deliveries: number; events: number }> {
  return fold();
}
