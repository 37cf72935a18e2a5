// `npm run schedules`: the deploy step that applies HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS and
// HERALD_RETENTION_SWEEP_INTERVAL_SECONDS to the deployment's Temporal schedules, creating them
// when missing. Workers only ever create a missing schedule, so with several replicas the
// interval is configured here, once, and no worker overwrites another's.
import type { HeraldConfig } from '../config/env';
import { connectClient } from '../temporal-client/connection';
import { describeHousekeepingSchedule, ensureHousekeepingSchedules } from '../worker/housekeeping-schedules';

export async function configureHousekeepingSchedules(config: HeraldConfig, log: (line: string) => void): Promise<void> {
  const client = await connectClient(config.temporal, config.payloadKeys);
  try {
    for (const schedule of await ensureHousekeepingSchedules(client, config, 'configure')) log(describeHousekeepingSchedule(schedule));
  } finally {
    await client.connection.close();
  }
}
