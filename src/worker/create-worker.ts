import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import { selectEmailProvider } from '../channels/email/select-email-provider';
import type { HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';
import { OutboxRepository } from '../repositories/outbox';
import { ensureOrphanSweepSchedule } from './orphan-sweep-schedule';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Bundling takes seconds; tests bundle once and share the result across workers. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never });
}

export interface WorkerDependencies {
  config: HeraldConfig;
  connection: NativeConnection;
  /** A client on the same cluster and namespace: it ensures the orphan-sweep schedule and serves the sweep's lookups. The caller closes it. */
  client: Client;
  db: HeraldDb;
  /** A prebuilt bundle (`{ code }` or `{ codePath }`); without it the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker({ config, connection, client, db, workflowBundle }: WorkerDependencies): Promise<Worker> {
  const emailProvider = selectEmailProvider(config.email, new OutboxRepository(db));
  await ensureOrphanSweepSchedule(client, config);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities({ db, emailProvider, emailFrom: config.email.from, temporal: client, orphanGraceSeconds: config.orphanSweep.graceSeconds }),
  });
}
