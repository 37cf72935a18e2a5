import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { chunks } from '../src/domain/chunks';
import type { BlockContext, BlockOutcome, MessageBlock } from '../src/channels/channel-blocks';
import type { EmailMessage } from '../src/channels/email/email-provider';
import type { EmailSender } from '../src/channels/email/email-senders';
import { channelOf } from '../src/channels/registry';
import { batchIdempotencyKey, providerIdempotencyKey } from '../src/channels/provider-idempotency-key';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { AUDIENCE_EXCLUSIONS, audienceBatchSize, type AudienceStopReason } from '../src/domain/audience-execution';
import type { Campaign } from '../src/domain/campaign';
import { isDeliverableEmailAddress, singleLine } from '../src/domain/header-safety';
import { QUIET_HOURS_DEFERRED, quietHoursDecision } from '../src/domain/quiet-hours';
import { prepareChannelRecipient, type PreparationSteps } from '../src/domain/recipient-preparation';
import { TemplateError } from '../src/domain/template-renderer';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import type { AudienceRepository } from '../src/repositories/audiences';
import type { AudienceRunRepository } from '../src/repositories/audience-runs';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';
import type { CappingRepository } from '../src/repositories/capping';
import type { DeliveryRepository, PreparedDelivery } from '../src/repositories/deliveries';
import type { ClosedCounts } from '../src/repositories/executions';
import type { SuppressionRepository } from '../src/repositories/suppressions';
import { excludeSuppressed } from './suppressed-recipients';
import { emailTrackingFor, preferenceDecision, preferencesUrlFor, type PrepareExecutionDependencies } from './prepare-execution';
import type { BatchPlan } from './provider-failover';
import { batchRetryFailure, providerUnavailableFailure } from './provider-unavailable-failure';
import type { SendPreparedNowInput, SendPreparedNowResult } from './send-message';
import type { EmailHeadersFor } from './unsubscribe-headers';

/** Messages sent one by one (SMS, push, chat, an email batch the provider refused) go this many at a time. */
const SINGLE_SEND_CONCURRENCY = 50;

export interface BeginAudienceRunInput {
  executionId: string;
  /** Workflow time: the campaign's window is judged by it, and the run's window starts there. */
  nowMs: number;
}

export type BeginAudienceRunResult =
  | { kind: 'refused'; reason: string }
  | { kind: 'running'; targeted: number; runStartedMs: number; deadlineMs: number; batchSize: number; throttlePerSecond?: number };

export interface AudienceBatchInput {
  executionId: string;
  /** Positions [from, to) of the frozen audience. */
  from: number;
  to: number;
  /** At most this many messages are sent (the deferred pass, which covers the whole run). */
  limit?: number;
  nowMs: number;
}

/** Counts and no personal data: this result is workflow history. */
export type AudienceBatchResult =
  | { kind: 'stopped'; reason: AudienceStopReason }
  | { kind: 'done'; sent: number; failed: number; excluded: number; deferred: number };

export interface CloseAudienceRunInput {
  executionId: string;
  /** Recipients still pending are excluded with this reason (window-expired, campaign-stopped…). */
  excludeRemaining?: string;
  failureReason?: string;
}

export interface AudienceRunDependencies extends Pick<PrepareExecutionDependencies, 'renderer' | 'tracking' | 'preferences'> {
  runs: AudienceRunRepository;
  audiences: AudienceRepository;
  campaigns: CampaignRepository;
  deliveries: DeliveryRepository;
  capping: CappingRepository;
  /** The suppression list; absent: nothing is suppressed. */
  suppressions?: SuppressionRepository;
  renderer: TemplateRenderer;
  /** HERALD_AUDIENCE_MAX_RUNTIME: how long a run may take before the rest is excluded as window-expired. */
  maxRuntimeMs: number;
  /** The campaign's email sender (its channel configuration, else the default). */
  emailSenderFor(campaignId: string): Promise<EmailSender>;
  /** One attempt at each message, by reference (SMS, push, and emails the batch endpoint refused). */
  sendPreparedNow(input: SendPreparedNowInput): Promise<SendPreparedNowResult>;
  /** A marketing email's one-click unsubscribe headers on top of the configuration's (activities/unsubscribe-headers.ts). */
  emailHeadersFor?: EmailHeadersFor;
  /** Whether the primary's batch endpoint may be used, and whether a failed batch has a fallback (activities/provider-failover.ts). */
  emailBatchPlan?: BatchPlan;
}

/** The messages of each block: the positions of one `size`-position block, so a retry rebuilds the same block (an email batch, its key). */
function positionBlocks(positions: number[], size: number): Map<number, number[]> {
  const blocks = new Map<number, number[]>();
  for (const position of positions) {
    const block = Math.floor(position / size);
    blocks.set(block, [...(blocks.get(block) ?? []), position]);
  }
  return blocks;
}

export function audienceRunActivities(deps: AudienceRunDependencies) {
  const { runs, campaigns, deliveries } = deps;

  /** Resolves the run and its campaign at the version the call recorded. */
  async function loadRun(executionId: string) {
    const run = await runs.run(executionId);
    if (!run) throw ApplicationFailure.nonRetryable(`Audience execution ${executionId} does not exist`, 'ExecutionNotFound');
    const campaign = await campaigns.getAtVersion(run.campaignId, run.campaignVersion);
    if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${run.campaignId} does not exist`, 'CampaignNotFound');
    return { run, campaign };
  }

  /** Whether the campaign still takes messages at `nowMs`: stopping it stops its runs at the next batch. */
  async function stopReason(campaignId: string, nowMs: number): Promise<AudienceStopReason | undefined> {
    const live = await campaigns.get(campaignId);
    if (!live) return AUDIENCE_EXCLUSIONS.campaignStopped;
    const refusal = triggerRefusal(live.status, live.schedule, nowMs);
    if (refusal === 'campaign-not-live') return AUDIENCE_EXCLUSIONS.campaignStopped;
    if (refusal === 'campaign-outside-schedule') return AUDIENCE_EXCLUSIONS.campaignEnded;
    return undefined;
  }

  /**
   * Prepares the members of [from, to) not prepared yet: one profile query for all of them,
   * capping in a few grouped queries, their preferences in one, consent, quiet hours and the
   * sandboxed render per member, then every outcome and rendered message in one transaction. A
   * retry prepares only what an earlier attempt did not record, so an email batch is rebuilt from
   * the same messages.
   */
  async function prepareRange(
    executionId: string,
    campaign: Campaign,
    context: Record<string, unknown> | undefined,
    from: number,
    to: number,
    nowMs: number,
  ): Promise<{ excluded: number; failed: number; deferred: number }> {
    const members = await runs.toPrepare(executionId, from, to);
    if (members.length === 0) return { excluded: 0, failed: 0, deferred: 0 };
    const namespace = campaign.audience.namespace;
    const userIds = members.map((m) => m.userId);
    const { rules } = channelOf(campaign.channel);
    const [profiles, capped, preference] = await Promise.all([
      runs.profilesOf(namespace, userIds, rules.needsPushTokens),
      deps.capping.cappedUserIds({ campaign, namespace, userIds, nowMs, exceptExecutionId: executionId }),
      preferenceDecision(deps.preferences, campaign, members),
    ]);
    const snapshot = toSnapshot(campaign);
    const tracking = emailTrackingFor(campaign, deps.tracking, executionId);
    const preferencesUrl = preferencesUrlFor(campaign, deps.tracking, executionId);
    const steps: PreparationSteps = {
      // Audience members are existing profiles (static members may have none: profile-not-found).
      resolveProfile: async ({ userId }) => {
        const profile = profiles.get(userId);
        return { created: false, ...(profile && { profile }) };
      },
      render: (input) => deps.renderer.renderEmail(input),
      renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
    };
    const deferrals: { position: number; notBefore: string }[] = [];
    const candidates = await Promise.all(
      members.map(async (member): Promise<PreparedDelivery> => {
        const excluded = (reason: string): PreparedDelivery => ({ position: member.position, profileCreated: false, outcome: { status: 'excluded', reason } });
        if (capped.has(member.userId)) return excluded('capped');
        const turnedOff = preference(member);
        if (turnedOff) return excluded(turnedOff);
        const profile = profiles.get(member.userId);
        const quiet = campaign.type === 'marketing' && profile ? quietHoursDecision(campaign.quietHours, profile.attributes, nowMs) : { kind: 'send' as const };
        if (quiet.kind === 'discard') return excluded('quiet-hours');
        const pageUrl = preferencesUrl && (await preferencesUrl(member));
        const memberSteps =
          tracking || pageUrl
            ? {
                ...steps,
                render: (input: Parameters<PreparationSteps['render']>[0]) =>
                  deps.renderer.renderEmail({ ...input, ...(pageUrl && { preferencesUrl: pageUrl }) }, tracking ? tracking(member.position) : undefined),
              }
            : steps;
        const result = await prepareChannelRecipient(
          rules,
          memberSteps,
          executionId,
          snapshot,
          { userId: member.userId, namespace: member.namespace },
          context,
        );
        if ('outcome' in result) {
          const { status, reason, address } = result.outcome;
          return {
            position: member.position,
            profileCreated: false,
            ...(address && { address }),
            outcome: { status: status === 'excluded' ? 'excluded' : 'failed', reason: reason ?? status },
          };
        }
        if (quiet.kind === 'defer') deferrals.push({ position: member.position, notBefore: new Date(quiet.untilMs).toISOString() });
        return {
          position: member.position,
          profileCreated: false,
          address: result.address,
          message: result.rendered,
          ...(result.locale && { locale: result.locale }),
        };
      }),
    );
    // One query for the whole batch's addresses; a suppressed member deferred by quiet hours is not deferred.
    const prepared = await excludeSuppressed(deps.suppressions, campaign.channel, candidates, (position) => {
      const at = deferrals.findIndex((d) => d.position === position);
      if (at >= 0) deferrals.splice(at, 1);
    });
    heartbeat();
    await deliveries.recordPreparation(executionId, campaign.channel, prepared);
    await runs.defer(executionId, deferrals, QUIET_HOURS_DEFERRED);
    const count = (status: 'excluded' | 'failed') => prepared.filter((p) => 'outcome' in p && p.outcome.status === status).length;
    return { excluded: count('excluded'), failed: count('failed'), deferred: deferrals.length };
  }

  /**
   * Sends one email block through the provider's batch endpoint, with a key derived from the
   * execution and the block, so a retried block is deduplicated by the provider. A block the
   * provider refuses as a whole is sent message by message instead (each with its own key), so
   * one bad address fails only itself.
   */
  async function sendEmailBlock({ executionId, campaignId, block, messages }: MessageBlock): Promise<BlockOutcome> {
    const deliverable = messages.filter((m) => isDeliverableEmailAddress(m.address));
    let failed = 0;
    for (const m of messages.filter((m) => !isDeliverableEmailAddress(m.address))) {
      await deliveries.markFailed(executionId, m.position, 'provider-rejected: not a deliverable email address');
      failed++;
    }
    if (deliverable.length === 0) return { sent: 0, failed, single: [] };
    // With the primary's circuit not closed, each message goes through the failover loop instead of the batch endpoint.
    const plan = (await deps.emailBatchPlan?.(campaignId)) ?? { primaryClosed: true, hasFallback: false };
    if (!plan.primaryClosed) return { sent: 0, failed, single: deliverable.map((m) => m.position) };
    const sender = await deps.emailSenderFor(campaignId);
    const headers = await Promise.all(
      deliverable.map((m) => (deps.emailHeadersFor ? deps.emailHeadersFor(executionId, m.position, sender.headers) : sender.headers)),
    );
    const batch: EmailMessage[] = deliverable.map((m, i) => ({
      from: sender.from,
      ...(sender.replyTo !== undefined && { replyTo: sender.replyTo }),
      ...(headers[i] !== undefined && { headers: headers[i] }),
      to: m.address,
      subject: singleLine(m.subject ?? ''),
      html: m.html ?? '',
      ...(m.text !== null && { text: m.text }),
      idempotencyKey: providerIdempotencyKey(executionId, m.userId, 'email'),
      campaignId,
      executionId,
      userId: m.userId,
    }));
    try {
      const { messageIds } = await sender.provider.sendBatch(batch, batchIdempotencyKey(executionId, block));
      await runs.markSentMany(
        executionId,
        deliverable.map((m, i) => ({ position: m.position, messageId: messageIds[i]! })),
      );
      return { sent: deliverable.length, failed, single: [] };
    } catch (error) {
      if (error instanceof ProviderRejectedError) return { sent: 0, failed, single: deliverable.map((m) => m.position) };
      // A batch that could not go now goes message by message through the fallbacks, when there are any.
      if (error instanceof ProviderUnavailableError && plan.hasFallback) return { sent: 0, failed, single: deliverable.map((m) => m.position) };
      if (error instanceof ProviderUnavailableError) throw providerUnavailableFailure(error);
      throw error;
    }
  }

  /** One attempt at each message by reference; what the provider could not take now is retried with the whole batch. */
  async function sendOneByOne(executionId: string, positions: number[]): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (const group of chunks(positions, SINGLE_SEND_CONCURRENCY)) {
      const attempt = await deps.sendPreparedNow({ executionId, positions: group });
      sent += attempt.sent.length;
      failed += attempt.rejected.length;
      heartbeat();
      if (attempt.retry.length > 0) {
        throw batchRetryFailure(executionId, attempt);
      }
    }
    return { sent, failed };
  }

  return {
    /**
     * Starts an audience run: judges the campaign by workflow time, then freezes the audience's
     * members into pending deliveries (a snapshot: later changes to the audience do not move the
     * run). Safe to retry: the members are frozen once. Refusals close the execution.
     */
    async beginAudienceRun({ executionId, nowMs }: BeginAudienceRunInput): Promise<BeginAudienceRunResult> {
      const { run, campaign } = await loadRun(executionId);
      const refuse = async (reason: string): Promise<BeginAudienceRunResult> => {
        await runs.close(executionId, reason);
        return { kind: 'refused', reason };
      };
      if (run.cancelledAt) return { kind: 'refused', reason: 'schedule-cancelled' };
      if (!run.runStartedAt) {
        const live = await campaigns.get(run.campaignId);
        const refusal = live ? triggerRefusal(live.status, live.schedule, nowMs) : 'campaign-not-live';
        if (refusal) return refuse(refusal);
      }
      const audience = await deps.audiences.get(run.audienceId);
      if (!audience && !run.runStartedAt) return refuse('audience-not-found');
      const frozen = await runs.freeze(executionId, campaign.channel, campaign.audience.namespace, new Date(nowMs).toISOString(), (db) =>
        deps.audiences.memberUserIds(db, audience!),
      );
      if (frozen.kind === 'cancelled') return { kind: 'refused', reason: 'schedule-cancelled' };
      const runStartedMs = Date.parse(frozen.runStartedAt);
      return {
        kind: 'running',
        targeted: frozen.targeted,
        runStartedMs,
        deadlineMs: runStartedMs + deps.maxRuntimeMs,
        batchSize: audienceBatchSize(run.throttlePerSecond),
        ...(run.throttlePerSecond !== undefined && { throttlePerSecond: run.throttlePerSecond }),
      };
    },

    /**
     * One batch of an audience run: stops if the campaign no longer takes messages, prepares the
     * members of [from, to) (once), then sends what is ready: a channel with blocks in the registry
     * a block at a time (email's up to 100 through the provider's batch endpoint, in-app's in one
     * insert), other channels one by one. Safe to retry: a message recorded as sent is never sent
     * again, a resent email block carries the same key, and a stored in-app block is found again.
     */
    async sendAudienceBatch({ executionId, from, to, limit, nowMs }: AudienceBatchInput): Promise<AudienceBatchResult> {
      const { run, campaign } = await loadRun(executionId);
      const stop = await stopReason(run.campaignId, nowMs);
      if (stop) return { kind: 'stopped', reason: stop };
      const prepared = await prepareRange(executionId, campaign, run.context, from, to, nowMs);
      let ready = await runs.readyToSend(executionId, from, to, new Date(nowMs).toISOString());
      if (limit !== undefined) ready = ready.slice(0, limit);
      let sent = 0;
      let failed = prepared.failed;
      const { blocks } = channelOf(campaign.channel);
      if (blocks) {
        const context: BlockContext = {
          emailBatch: sendEmailBlock,
          inbox: { storeMany: (messages) => runs.storeInboxMessages(messages) },
          markSentMany: (sentMessages) => runs.markSentMany(executionId, sentMessages),
          markFailed: (position, reason) => deliveries.markFailed(executionId, position, reason),
        };
        const single: number[] = [];
        for (const [block, positions] of positionBlocks(ready, blocks.size)) {
          const messages = await runs.messagesFor(executionId, positions);
          const result = await blocks.send({ executionId, campaignId: campaign.id, block, messages }, context);
          sent += result.sent;
          failed += result.failed;
          single.push(...result.single);
          heartbeat();
        }
        const oneByOne = await sendOneByOne(executionId, single);
        sent += oneByOne.sent;
        failed += oneByOne.failed;
      } else {
        const oneByOne = await sendOneByOne(executionId, ready);
        sent += oneByOne.sent;
        failed += oneByOne.failed;
      }
      return { kind: 'done', sent, failed, excluded: prepared.excluded, deferred: prepared.deferred };
    },

    /** The earliest instant a message deferred by quiet hours waits for, as epoch ms; null when none waits. */
    async nextDeferredMessage(executionId: string): Promise<number | null> {
      const next = await runs.nextDeferred(executionId);
      return next ? Date.parse(next) : null;
    },

    /** Ends a run: excludes what is still pending with the reason given, and stores the counts. */
    async closeAudienceRun({ executionId, excludeRemaining, failureReason }: CloseAudienceRunInput): Promise<ClosedCounts> {
      if (excludeRemaining) await runs.excludePending(executionId, excludeRemaining);
      return runs.close(executionId, failureReason);
    },
  };
}
