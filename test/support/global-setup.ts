import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../temporal/dev-server';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { encodedFailureConverterPath } from '../../src/temporal-client/data-converter';
import { startPostgresServer } from './postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundleCode: string;
    /** HERALD_TEST_DATABASE=postgres: the run's PostgreSQL server (maintenance database); empty on the SQLite suite. */
    postgresAdminUrl: string;
  }
}

/** One real Temporal dev server (in memory) and one workflow bundle for the whole run. */
export default async function setup(project: TestProject) {
  const server = await startDevServer();
  // The suite runs with payload encryption on (see herald-harness), so workflow failures are encoded too.
  const bundle = await bundleWorkflows({ failureConverterPath: encodedFailureConverterPath });
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundleCode', bundle.code);
  // The PostgreSQL suite: one server for the run, a fresh database per Herald (herald-harness).
  const postgres = process.env.HERALD_TEST_DATABASE === 'postgres' ? await startPostgresServer() : undefined;
  project.provide('postgresAdminUrl', postgres?.adminUrl ?? '');
  return async () => {
    await server.teardown();
    await postgres?.teardown();
  };
}
