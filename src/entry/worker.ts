// `npm run worker`: the Temporal worker alone, against TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { openMigratedDatabase } from '../db/database';
import { connect, connectClient, connectWorkerConnection } from '../temporal-client/connection';
import { createWorker } from '../worker/create-worker';
import { registerSearchAttributes } from '../../temporal/search-attributes';
import { ConfigError } from '../config/env';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';

const log = logger('worker');
const config = loadConfigOrExit();
// The SDK logs every failed activity attempt at WARN; HERALD_LOG_LEVEL=error quiets a noisy provider.
Runtime.install({ logger: new DefaultLogger(config.logLevel.toUpperCase() as LogLevel) });
const db = await openMigratedDatabase(config.database);

if (config.temporal.externalAddress) {
  const operator = await connect(config.temporal);
  await registerSearchAttributes(operator, config.temporal.namespace, log);
  await operator.close();
}

const connection = await connectWorkerConnection(config.temporal);
const client = await connectClient(config.temporal, config.payloadKeys);
const worker = await createWorker({ config, connection, client, db, log }).catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(78); // EX_CONFIG: the supervisor stops instead of restarting a worker that cannot work
});
log(
  `polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address} (namespace ${config.temporal.namespace}); email via ${config.email.provider === 'resend' ? 'Resend' : 'the dev outbox'}`,
);
// Ctrl-C under `npm start` delivers SIGINT to the whole group and the supervisor then sends
// SIGTERM; a second shutdown() would throw and skip the clean close below.
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  worker.shutdown();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await worker.run();
await client.connection.close();
await connection.close();
await db.destroy();
log('stopped');
