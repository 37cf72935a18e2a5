import { log } from '@temporalio/activity';
import type { ReportRollupRepository } from '../src/repositories/report-rollups';

export function reportActivities(rollups: ReportRollupRepository) {
  return {
    /**
     * Folds every delivery and event change not yet counted into the report rollups, so that a
     * report finds little left to fold when it is asked. Safe to repeat and to run beside a
     * report's own fold: the rollups' fold lock lets one of them count each change.
     */
    async foldReportRollups(): Promise<{ deliveries: number; events: number }> {
      const folded = await rollups.foldChanges();
      if (folded.deliveries + folded.events > 0) log.info('folded changes into the report rollups', folded);
      return folded;
    },
  };
}
