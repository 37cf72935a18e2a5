// `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
import { openMigratedDatabase } from '../db/database';
import { connectClient } from '../temporal-client/connection';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';
import { OpenApiRefusedError, serveApi } from './serve-api';

const log = logger('api');
const config = loadConfigOrExit();
const db = await openMigratedDatabase(config.database);
const temporal = await connectClient(config.temporal, config.payloadKeys);
try {
  const server = await serveApi(config, db, temporal, log);
  log(`listening on http://${config.http.host}:${server.port} (docs at /docs, OpenAPI at /openapi.json)`);
  const shutdown = () => {
    // The starts of calls answered before them (ADR 0011) get what is left of the 5 s to finish.
    server.close(
      () =>
        void server
          .startsSettled(3_000)
          .then(() => Promise.all([db.destroy(), temporal.connection.close()]))
          .finally(() => process.exit(0)),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  if (error instanceof OpenApiRefusedError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}
