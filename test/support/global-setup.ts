import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../temporal/dev-server';
import { startTemporalCluster } from '../../temporal/cluster';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { encodedFailureConverterPath } from '../../src/temporal-client/data-converter';
import { startPostgresServer } from './postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundleCode: string;
    /** HERALD_TEST_DATABASE=postgres: the run's PostgreSQL server (maintenance database); empty on the SQLite suite. */
    postgresAdminUrl: string;
    /**
     * HERALD_TEST_TEMPORAL=cluster: the PostgreSQL server the run's Temporal cluster lives on, where a
     * test may start a cluster of its own (test/cluster); empty on the dev server.
     */
    temporalClusterPostgresUrl: string;
  }
}

/**
 * One Temporal server and one workflow bundle for the whole run: by default the CLI's dev server (in
 * memory); with HERALD_TEST_TEMPORAL=cluster (`npm run test:cluster`) the Temporal server production
 * runs, on PostgreSQL (temporal/cluster.ts).
 */
export default async function setup(project: TestProject) {
  const onCluster = process.env.HERALD_TEST_TEMPORAL === 'cluster';
  const postgresSuite = process.env.HERALD_TEST_DATABASE === 'postgres';
  // The PostgreSQL suite: one server for the run, a fresh database per Herald (herald-harness). The
  // cluster keeps its own databases on the same server.
  const postgres = postgresSuite || onCluster ? await startPostgresServer() : undefined;
  const server = await (onCluster ? startTemporalCluster({ postgresAdminUrl: postgres!.adminUrl }) : startDevServer()).catch(async (error: unknown) => {
    await postgres?.teardown();
    throw error;
  });
  // The suite runs with payload encryption on (see herald-harness), so workflow failures are encoded too.
  const bundle = await bundleWorkflows({ failureConverterPath: encodedFailureConverterPath });
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundleCode', bundle.code);
  project.provide('postgresAdminUrl', postgresSuite ? postgres!.adminUrl : '');
  project.provide('temporalClusterPostgresUrl', onCluster ? postgres!.adminUrl : '');
  return async () => {
    await server.teardown();
    await postgres?.teardown();
  };
}
