// `npm run worker`: the Temporal worker alone, against TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
import { openMigratedDatabase } from '../db/database';
import { connect, connectWorkerConnection } from '../temporal-client/connection';
import { createWorker } from '../worker/create-worker';
import { registerSearchAttributes } from '../../temporal/search-attributes';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';

const log = logger('worker');
const config = loadConfigOrExit();
const db = await openMigratedDatabase(config.databasePath);

if (config.temporal.externalAddress) {
  const operator = await connect(config.temporal);
  await registerSearchAttributes(operator, config.temporal.namespace, log);
  await operator.close();
}

const connection = await connectWorkerConnection(config.temporal);
const worker = await createWorker({ config, connection, db });
log(`polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (namespace ${config.temporal.namespace}); email via ${config.email.resendApiKey ? 'Resend' : 'the dev outbox'}`);
process.once('SIGINT', () => worker.shutdown());
process.once('SIGTERM', () => worker.shutdown());
await worker.run();
await connection.close();
await db.destroy();
log('stopped');
