import type { Client } from '@temporalio/client';
import type { EmailProvider } from '../src/channels/email/email-provider';
import type { EmailSenderResolver } from '../src/channels/email/email-senders';
import type { SmsSenderResolver } from '../src/channels/sms/sms-senders';
import type { WhatsAppSenderResolver } from '../src/channels/whatsapp/whatsapp-senders';
import type { PushSenderResolver } from '../src/channels/push/push-senders';
import type { ChatSenderResolver } from '../src/channels/chat/chat-senders';
import type { HeraldDb } from '../src/db/database';
import { CampaignRepository } from '../src/repositories/campaigns';
import { DeliveryRepository } from '../src/repositories/deliveries';
import { ExecutionRepository } from '../src/repositories/executions';
import { ProfileRepository } from '../src/repositories/profiles';
import { RetentionRepository } from '../src/repositories/retention';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import type { HeraldConfig } from '../src/config/env';
import { AudienceRunRepository } from '../src/repositories/audience-runs';
import { AudienceRepository } from '../src/repositories/audiences';
import { CappingRepository } from '../src/repositories/capping';
import { SuppressionRepository } from '../src/repositories/suppressions';
import { CategoryRepository } from '../src/repositories/categories';
import { PreferenceRepository } from '../src/repositories/preferences';
import { AddressHasher } from '../src/domain/address-hash';
import { audienceRunActivities } from './audience-run';
import { reportActivities } from './report-activities';
import { ReportRollupRepository } from '../src/repositories/report-rollups';
import { campaignActivities } from './campaign-activities';
import { campaignVersionActivities } from './campaign-version-activities';
import { executionActivities } from './execution-activities';
import { orphanSweepActivities } from './orphan-sweep-activities';
import { prepareExecutionActivities, recipientPreparation } from './prepare-execution';
import { campaignStepActivities } from './campaign-steps';
import { DigestRepository } from '../src/repositories/digests';
import { EventWaitRepository } from '../src/repositories/event-waits';
import { ExecutionStepRepository } from '../src/repositories/execution-steps';
import { prepareRecipientsActivities } from './prepare-recipients';
import { profileActivities } from './profile-activities';
import { renderActivities } from './render-activities';
import { retentionActivities } from './retention-activities';
import { runTriggerNowActivities } from './run-trigger-now';
import { sendEmailActivities } from './send-email';
import { sendMessageActivities } from './send-message';
import { providerFailover } from './provider-failover';
import { ChannelConfigurationRepository } from '../src/repositories/channel-configurations';
import { ProviderCircuitRepository } from '../src/repositories/provider-circuits';
import { InboxRepository } from '../src/repositories/inbox';
import { webhookDeliveryActivities, type WebhookDeliverySettings } from './webhook-delivery';
import { WebhookEndpointRepository } from '../src/repositories/webhook-endpoints';
import { FeedbackEventRepository } from '../src/repositories/feedback-events';
import { unsubscribeHeadersFor } from './unsubscribe-headers';
import { highThroughputDispatchActivities } from './high-throughput-dispatch';
import { HighThroughputQueue } from '../src/repositories/high-throughput-queue';

export interface ActivityDependencies {
  db: HeraldDb;
  emailProvider: EmailProvider;
  emailFrom: string;
  /** Resolves a campaign's sender from its channel configuration; without it, every email goes through emailProvider as emailFrom. */
  emailSenders?: EmailSenderResolver;
  /** Resolves a campaign's SMS sender (its configuration, else TWILIO_* or the outbox); without it SMS cannot be sent. */
  smsSenders?: SmsSenderResolver;
  /** Resolves a campaign's WhatsApp sender (its configuration, else META_WHATSAPP_*, TWILIO_* or the outbox); without it WhatsApp cannot be sent. */
  whatsappSenders?: WhatsAppSenderResolver;
  /** Resolves a campaign's push provider (its configuration, else the outbox); without it push cannot be sent. */
  pushSenders?: PushSenderResolver;
  /** Resolves a campaign's chat sender (its configuration, else the outbox); without it chat cannot be sent. */
  chatSenders?: ChatSenderResolver;
  /** Asks Temporal whether an execution's workflow exists, for the orphan sweep. */
  temporal: Client;
  orphanGraceSeconds: number;
  retentionDays: number;
  /** HERALD_AUDIENCE_MAX_RUNTIME: an audience run's window. */
  audienceMaxRuntimeMs: number;
  /** The sandboxed template renderer (a pool of child processes); nothing renders in the worker process itself. */
  renderer: TemplateRenderer;
  /** Engagement tracking: HERALD_PUBLIC_URL and HERALD_TRACKING_SECRET (the worker's configuration, read at each preparation). */
  tracking?: Pick<HeraldConfig, 'publicUrl' | 'tracking'>;
  /** Feedback webhooks out: the worker's configuration (payload keys open the sealed secrets), read at each delivery; without it, secrets cannot be opened. */
  webhooks?: WebhookDeliverySettings;
  /** HERALD_HIGH_THROUGHPUT_PARTITIONS: the dispatchers of partitions past it end once drained (default 4). */
  highThroughputPartitions?: number;
  /** For the orphan sweep: starts the dispatchers of partitions past the count that hold queued triggers (src/services/high-throughput-dispatchers.ts). */
  restartStrandedDispatchers?: () => Promise<number[]>;
}

export function createActivities(deps: ActivityDependencies) {
  const campaigns = new CampaignRepository(deps.db);
  const profiles = new ProfileRepository(deps.db);
  const executions = new ExecutionRepository(deps.db);
  const deliveries = new DeliveryRepository(deps.db);
  // The send-time suppression check also recognises the keyed hashes erasures leave (src/domain/address-hash.ts).
  const suppressions = new SuppressionRepository(deps.db, new AddressHasher(() => deps.tracking?.tracking.secrets ?? []));
  // Marketing email's one-click unsubscribe headers, computed at each send (single and batch).
  const emailHeadersFor = unsubscribeHeadersFor({ executions, campaigns, settings: deps.tracking });
  // People's preferences, applied at every send (unitary, campaign steps, audience batches).
  const preferences = { people: new PreferenceRepository(deps.db), categories: new CategoryRepository(deps.db) };
  // Batches (audience runs, high-throughput dispatch) send with the campaign's sender, else the default.
  const emailSenderFor = async (campaignId: string) =>
    deps.emailSenders ? deps.emailSenders(campaignId) : { provider: deps.emailProvider, from: deps.emailFrom };
  const preparation = {
    campaigns,
    profiles,
    executions,
    deliveries,
    capping: new CappingRepository(deps.db),
    suppressions,
    preferences,
    renderer: deps.renderer,
    tracking: deps.tracking,
  };
  // Fallback configurations behind per-configuration circuit breakers shared through the database.
  const failover = providerFailover({
    configurations: new ChannelConfigurationRepository(deps.db),
    circuits: new ProviderCircuitRepository(deps.db),
    feedback: new FeedbackEventRepository(deps.db),
  });
  const steps = {
    ...campaignActivities(campaigns),
    ...executionActivities(executions),
    ...prepareExecutionActivities(preparation),
    ...sendMessageActivities({
      deliveries,
      emailProvider: deps.emailProvider,
      emailFrom: deps.emailFrom,
      emailSenderFor: deps.emailSenders,
      smsSenderFor: deps.smsSenders,
      whatsappSenderFor: deps.whatsappSenders,
      push: deps.pushSenders && { senderFor: deps.pushSenders, forgetToken: (userId, token) => profiles.removePushToken(userId, token) },
      inbox: new InboxRepository(deps.db),
      chatSenderFor: deps.chatSenders,
      emailHeadersFor,
      sendWithFailover: failover.sendWithFailover,
    }),
  };
  return {
    ...steps,
    // The newest trigger path (ONE_STEP_ON_THE_HAPPY_PATH): the steps above in one local activity.
    ...runTriggerNowActivities(steps),
    // Campaigns with steps (workflows/campaign-steps-execution.ts).
    ...campaignStepActivities({
      campaigns,
      executions,
      deliveries,
      profiles,
      digests: new DigestRepository(deps.db),
      eventWaits: new EventWaitRepository(deps.db),
      executionSteps: new ExecutionStepRepository(deps.db),
      renderer: deps.renderer,
      prepare: recipientPreparation(preparation),
    }),
    ...profileActivities(profiles),
    // The activation workflow's activateVersion update.
    ...campaignVersionActivities(deps.db),
    ...prepareRecipientsActivities(profiles, deps.renderer),
    ...orphanSweepActivities({
      executions,
      campaigns,
      temporal: deps.temporal,
      graceSeconds: deps.orphanGraceSeconds,
      ...(deps.restartStrandedDispatchers && { restartStrandedDispatchers: deps.restartStrandedDispatchers }),
    }),
    ...renderActivities(deps.renderer),
    ...sendEmailActivities(deps.emailProvider, deps.emailFrom),
    ...retentionActivities({
      retention: new RetentionRepository(deps.db),
      retentionDays: deps.retentionDays,
      feedbackEvents: new FeedbackEventRepository(deps.db),
    }),
    // Feedback webhooks out (workflows/webhook-dispatcher.ts).
    ...webhookDeliveryActivities(
      new WebhookEndpointRepository(deps.db),
      deps.webhooks ?? { webhooks: { allowPrivate: false, timeoutMs: 10_000, disableAfterFailures: 0, retryInitialMs: 5_000, pollMs: 1_000 } },
    ),
    // The report-rollup fold's schedule (workflows/fold-report-rollups.ts).
    ...reportActivities(new ReportRollupRepository(deps.db)),
    // Audience executions: batches of many recipients each (workflows/audience-execution.ts).
    ...audienceRunActivities({
      runs: new AudienceRunRepository(deps.db),
      audiences: new AudienceRepository(deps.db),
      campaigns,
      deliveries,
      capping: new CappingRepository(deps.db),
      suppressions,
      preferences,
      renderer: deps.renderer,
      tracking: deps.tracking,
      maxRuntimeMs: deps.audienceMaxRuntimeMs,
      emailSenderFor,
      sendPreparedNow: steps.sendPreparedNow,
      emailHeadersFor,
      emailBatchPlan: failover.batchPlan,
    }),
    // High-throughput campaigns: the dispatchers' batches (workflows/high-throughput-dispatcher.ts, ADR 0010).
    ...highThroughputDispatchActivities({
      queue: new HighThroughputQueue(deps.db),
      campaigns,
      deliveries,
      renderer: deps.renderer,
      emailSenderFor,
      sendPreparedNow: steps.sendPreparedNow,
      emailBatchPlan: failover.batchPlan,
      ...(deps.highThroughputPartitions !== undefined && { partitions: deps.highThroughputPartitions }),
    }),
  };
}

export type HeraldActivities = ReturnType<typeof createActivities>;
