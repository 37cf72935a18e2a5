import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities/index';
import { selectEmailProvider } from '../channels/email/select-email-provider';
import { emailSenders } from '../channels/email/email-senders';
import { smsSenders } from '../channels/sms/sms-senders';
import { pushSenders } from '../channels/push/push-senders';
import { chatSenders } from '../channels/chat/chat-senders';
import { whatsappSenders } from '../channels/whatsapp/whatsapp-senders';
import { ChannelConfigurationRepository } from '../repositories/channel-configurations';
import type { HeraldConfig } from '../config/env';
import type { HeraldDb } from '../db/database';
import { OutboxRepository } from '../repositories/outbox';
import { createTemplateRenderer } from '../rendering/template-renderer';
import { heraldDataConverter } from '../temporal-client/data-converter';
import {
  dispatcherSettingOf,
  ensureHighThroughputDispatchers,
  highThroughputDispatchersToRun,
  restartDispatchersPastTheCount,
} from '../services/high-throughput-dispatchers';
import { describeHousekeepingSchedule, ensureHousekeepingSchedules, housekeepingScheduleWarning } from './housekeeping-schedules';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/**
 * Bundling takes seconds; tests bundle once and share the result across workers. Pass the data
 * converter whose failure converter the workflows should use (`heraldDataConverter(keys)`).
 */
export function bundleWorkflows(dataConverter: Pick<DataConverter, 'failureConverterPath'> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: dataConverter.failureConverterPath,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
}

export interface WorkerDependencies {
  config: HeraldConfig;
  connection: NativeConnection;
  /** A client on the same cluster and namespace: it ensures the orphan-sweep schedule and serves the sweep's lookups. The caller closes it. */
  client: Client;
  db: HeraldDb;
  /** A prebuilt bundle (`{ code }` or `{ codePath }`); without it the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Where the worker reports its housekeeping schedules; without it, only a setting not in effect is reported (console.warn). */
  log?: (line: string) => void;
  /** False: ensure no housekeeping schedule, for a server without schedules (Temporal's time-skipping test server). */
  housekeeping?: boolean;
}

export async function createWorker({ config, connection, client, db, workflowBundle, log, housekeeping = true }: WorkerDependencies): Promise<Worker> {
  const outbox = new OutboxRepository(db);
  const emailProvider = selectEmailProvider(config.email, outbox);
  // Campaigns with a channel configuration send as it says, with credentials from HERALD_SENDER_ENV.
  const senders = emailSenders({
    configurations: new ChannelConfigurationRepository(db),
    outbox,
    defaultProvider: emailProvider,
    defaultFrom: config.email.from,
    email: config.email,
    sender: config.sender,
  });
  const smsSenderFor = smsSenders({ configurations: new ChannelConfigurationRepository(db), outbox, sms: config.sms, sender: config.sender });
  const pushSenderFor = pushSenders({ configurations: new ChannelConfigurationRepository(db), outbox, sender: config.sender, push: config.push });
  const whatsappSenderFor = whatsappSenders({
    configurations: new ChannelConfigurationRepository(db),
    outbox,
    whatsapp: config.whatsapp,
    sender: config.sender,
  });
  const chatSenderFor = chatSenders({ configurations: new ChannelConfigurationRepository(db), outbox, sender: config.sender, chat: config.chat });
  for (const schedule of housekeeping ? await ensureHousekeepingSchedules(client, config, 'create-only') : []) {
    const warning = housekeepingScheduleWarning(schedule);
    if (warning) (log ?? console.warn)(warning);
    log?.(describeHousekeepingSchedule(schedule));
  }
  // High-throughput campaigns' dispatchers (ADR 0010), when there is something for them to send
  // (with any partition past the count that still holds triggers); activation starts them too.
  const dispatchers = housekeeping ? await highThroughputDispatchersToRun(db, config.temporal.highThroughputPartitions) : [];
  if (dispatchers.length > 0) await ensureHighThroughputDispatchers(client, dispatcherSettingOf(config), dispatchers);
  // The render sandbox: a pool of child processes that lives exactly as long as the worker runs.
  const renderer = createTemplateRenderer(config.render);
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      // Bounded, so thousands of waiting runs do not hold the worker's memory (BENCHMARKS.md, issue 20).
      maxCachedWorkflows: config.temporal.maxCachedWorkflows,
      ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
      dataConverter: heraldDataConverter(config.payloadKeys),
      activities: createActivities({
        db,
        emailProvider,
        emailFrom: config.email.from,
        emailSenders: senders,
        smsSenders: smsSenderFor,
        whatsappSenders: whatsappSenderFor,
        pushSenders: pushSenderFor,
        chatSenders: chatSenderFor,
        temporal: client,
        orphanGraceSeconds: config.orphanSweep.graceSeconds,
        retentionDays: config.retention.days,
        audienceMaxRuntimeMs: config.audienceMaxRuntimeMs,
        renderer,
        tracking: config,
        webhooks: config,
        highThroughputPartitions: config.temporal.highThroughputPartitions,
        restartStrandedDispatchers: () => restartDispatchersPastTheCount(db, client, dispatcherSettingOf(config)),
      }),
    });
  } catch (error) {
    await renderer.close();
    throw error;
  }
  // Every caller awaits run() to the end of the worker's life; the pool's render processes stop with it.
  const run = worker.run.bind(worker);
  worker.run = () => run().finally(() => renderer.close());
  return worker;
}
