import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import { selectEmailProvider } from '../channels/email/select-email-provider';
import type { HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';
import { OutboxRepository } from '../repositories/outbox';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Bundling takes seconds; tests bundle once and share the result across workers. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never });
}

export interface WorkerDependencies {
  config: HeraldConfig;
  connection: NativeConnection;
  db: HeraldDb;
  /** A prebuilt bundle (`{ code }` or `{ codePath }`); without it the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createWorker({ config, connection, db, workflowBundle }: WorkerDependencies): Promise<Worker> {
  const emailProvider = selectEmailProvider(config.email, new OutboxRepository(db));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities({ db, emailProvider, emailFrom: config.email.from }),
  });
}
