// `npm run schedules`: see configure-schedules.ts.
import { configureHousekeepingSchedules } from './configure-schedules';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';

const log = logger('schedules');
const config = loadConfigOrExit();
try {
  await configureHousekeepingSchedules(config, log);
} catch (error) {
  console.error(
    `[schedules] configuring the Temporal schedules on ${config.temporal.address} failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
