import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import { chunks } from '../src/domain/chunks';
import { ulidFactory } from '../src/ids/ulid-factory';
import { MAX_EMAIL_BATCH, type EmailMessage } from '../src/channels/email/email-provider';
import type { EmailSender } from '../src/channels/email/email-senders';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { batchIdempotencyKey, providerIdempotencyKey } from '../src/channels/provider-idempotency-key';
import { channelOf } from '../src/channels/registry';
import type { Campaign } from '../src/domain/campaign';
import { isDeliverableEmailAddress, singleLine } from '../src/domain/header-safety';
import { isErasedRecipient } from '../src/domain/recipient';
import { prepareChannelRecipient, type PreparationSteps } from '../src/domain/recipient-preparation';
import type { RenderedEmail } from '../src/domain/rendered-email';
import { TemplateError } from '../src/domain/template-renderer';
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS } from '../src/domain/high-throughput';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';
import type { DeliveryRepository, PreparedDelivery } from '../src/repositories/deliveries';
import type { HighThroughputQueue, QueuedTrigger, SentMessage } from '../src/repositories/high-throughput-queue';
import { batchRetryFailure, providerUnavailableFailure } from './provider-unavailable-failure';
import type { BatchPlan } from './provider-failover';
import type { SendPreparedNowInput, SendPreparedNowResult } from './send-message';

const nextBatchId = ulidFactory();

/** How often a drain session heartbeats whatever it is doing (its workflow's heartbeat timeout is 10 s). */
const SESSION_HEARTBEAT_MS = 2_000;

export interface DispatchBatchInput {
  partition: number;
  /** At most this many triggers (executions) in the batch. */
  limit: number;
}

/** A drain session of one partition (ADR 0010): batches back to back while triggers keep coming. */
export interface DrainPartitionInput {
  partition: number;
  /** At most this many triggers per batch. */
  batchSize: number;
  /** After a batch that came back short, how long to let the next one fill before claiming it. */
  lingerMs: number;
  /** No new batch is claimed after this long: the session returns to its workflow, whose details then show the totals. */
  sessionMs: number;
}

/** Ids and counts only: this is workflow history. */
export interface DrainPartitionResult {
  batches: number;
  triggers: number;
  sent: number;
  failed: number;
  /** The session ended on its time limit with triggers still queued, not on an empty queue. */
  more: boolean;
  /**
   * The partition is past the worker's HERALD_HIGH_THROUGHPUT_PARTITIONS (queued under a larger
   * count) and the session found it empty: its dispatcher ends. A trigger queued there later, by an
   * API still on the larger count, starts it again with its nudge.
   */
  retire?: true;
}

/** Ids and counts only: this is workflow history. */
export interface DispatchBatchResult {
  /** Absent when the partition had nothing to send. */
  batchId?: string;
  triggers: number;
  sent: number;
  /** Messages not sent: failed, or excluded (a person erased since the call). */
  failed: number;
  /** The batch was claimed by an earlier attempt that did not finish it. */
  resumed?: boolean;
}

export interface HighThroughputDispatchDependencies {
  queue: HighThroughputQueue;
  campaigns: CampaignRepository;
  deliveries: DeliveryRepository;
  /** The sandboxed renderer: nothing renders in the worker process itself. */
  renderer: TemplateRenderer;
  /** The campaign's email sender (its channel configuration, else the default). */
  emailSenderFor(campaignId: string): Promise<EmailSender>;
  /**
   * One attempt at each stored message, by reference, through the campaign's failover chain
   * (activities/send-message.ts): SMS and push always; email when its batch cannot go to the primary.
   */
  sendPreparedNow(input: SendPreparedNowInput): Promise<SendPreparedNowResult>;
  /** Whether the primary's batch endpoint may be used, and whether a failed block has a fallback (activities/provider-failover.ts). */
  emailBatchPlan?: BatchPlan;
  /** The worker's HERALD_HIGH_THROUGHPUT_PARTITIONS (default 4): a drained partition past it retires its dispatcher. */
  partitions?: number;
}

/** One recipient of the batch, prepared from the call alone. */
interface Prepared {
  trigger: QueuedTrigger;
  position: number;
  userId: string;
  status: QueuedTrigger['recipients'][number]['status'];
  result: Awaited<ReturnType<typeof prepareChannelRecipient>>;
}

/**
 * Profile-free preparation (ADR 0010): a high-throughput campaign reads no profile and creates
 * none, so each recipient is prepared against an empty one: its address from channelData (or the
 * userId in the `email` or `phone` namespace), its content from the call's context.
 */
function profileFreeSteps(renderer: TemplateRenderer): PreparationSteps {
  return {
    resolveProfile: async () => ({ created: false, profile: { attributes: {}, consents: {} } }),
    render: (input) => renderer.renderEmail(input),
    renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
  };
}

export function highThroughputDispatchActivities(deps: HighThroughputDispatchDependencies) {
  const steps = profileFreeSteps(deps.renderer);

  /**
   * Each campaign version the batch's triggers were accepted under, with the campaign as it is now
   * (its status and schedule decide whether the batch still sends): one read of the campaign for
   * both, unless the version is no longer the live one.
   */
  async function campaignsOf(triggers: QueuedTrigger[]): Promise<Map<string, { campaign: Campaign; live: Campaign }>> {
    const keys = [...new Set(triggers.map((t) => `${t.campaignId}@${t.campaignVersion}`))];
    const found = new Map<string, { campaign: Campaign; live: Campaign }>();
    for (const key of keys) {
      const at = key.lastIndexOf('@');
      const [id, version] = [key.slice(0, at), Number(key.slice(at + 1))];
      const live = await deps.campaigns.get(id);
      const campaign = live && live.version !== version ? await deps.campaigns.getAtVersion(id, version) : live;
      if (!live || !campaign) throw ApplicationFailure.nonRetryable(`Campaign ${key} does not exist`, 'CampaignNotFound');
      found.set(key, { campaign, live });
    }
    return found;
  }

  /** Records what preparation decided for recipients that will not be sent (no address, a render error), per execution. */
  async function recordOutcomes(prepared: Prepared[], campaign: Campaign): Promise<number> {
    const byExecution = new Map<string, PreparedDelivery[]>();
    for (const p of prepared) {
      if (p.status !== 'pending' || !('outcome' in p.result)) continue;
      const { status, reason, address } = p.result.outcome;
      const list = byExecution.get(p.trigger.executionId) ?? [];
      list.push({
        position: p.position,
        profileCreated: false,
        ...(address && { address }),
        outcome: { status: status === 'excluded' ? 'excluded' : 'failed', reason: reason ?? status },
      });
      byExecution.set(p.trigger.executionId, list);
    }
    for (const [executionId, outcomes] of byExecution) await deps.deliveries.recordPreparation(executionId, campaign.channel, outcomes);
    return [...byExecution.values()].reduce((n, list) => n + list.length, 0);
  }

  /**
   * Email: the batch's ready messages in blocks of up to 100 through the provider's batch
   * endpoint, each block under a key of the batch and the block's index. A block whose messages
   * all have an outcome is skipped; any other is sent whole, so a resumed batch repeats
   * exactly what an earlier attempt may have sent, under the same key, and the provider takes it once.
   * A block the provider refuses as a whole goes message by message, each under its own key.
   * Failover (docs/failover.md), as audience runs do it: while the primary configuration's circuit
   * is not closed, or when a block could not go now and the campaign has a fallback, the messages
   * are stored and go one by one through the failover chain.
   */
  async function sendEmail(batchId: string, campaign: Campaign, ready: Prepared[], beat: () => void): Promise<{ sent: number; failed: number }> {
    const plan = (await deps.emailBatchPlan?.(campaign.id)) ?? { primaryClosed: true, hasFallback: false };
    if (!plan.primaryClosed) return sendOneByOne(campaign, ready, beat);
    const sender = await deps.emailSenderFor(campaign.id);
    let sent = 0;
    let failed = 0;
    // In the batch's fixed order: a resumed batch rebuilds the same blocks.
    for (const [index, block] of chunks(ready, MAX_EMAIL_BATCH).entries()) {
      if (block.every((p) => p.status !== 'pending')) continue;
      const messages = block.map((p): { p: Prepared; message: EmailMessage } => {
        const { address, rendered } = p.result as { address: string; rendered: RenderedEmail };
        return {
          p,
          message: {
            from: sender.from,
            ...(sender.replyTo !== undefined && { replyTo: sender.replyTo }),
            ...(sender.headers !== undefined && { headers: sender.headers }),
            to: address,
            subject: singleLine(rendered.subject ?? ''),
            html: rendered.html ?? '',
            ...(rendered.text !== undefined && { text: rendered.text }),
            idempotencyKey: providerIdempotencyKey(p.trigger.executionId, p.userId, 'email'),
            campaignId: campaign.id,
            executionId: p.trigger.executionId,
            userId: p.userId,
          },
        };
      });
      const record = (accepted: { p: Prepared; messageId: string }[]) =>
        deps.queue.recordSent(
          accepted.map(({ p, messageId }): SentMessage => {
            const { address, locale } = p.result as { address: string; locale?: string };
            return { executionId: p.trigger.executionId, position: p.position, messageId, address, ...(locale && { locale }) };
          }),
        );
      try {
        const { messageIds } = await sender.provider.sendBatch(
          messages.map((m) => m.message),
          // Per batch, campaign version and block: whatever else the batch holds, a block keeps its key.
          batchIdempotencyKey(`${batchId}/${campaign.id}/${campaign.version}`, index),
        );
        await record(messages.map(({ p }, i) => ({ p, messageId: messageIds[i]! })));
        sent += block.filter((p) => p.status === 'pending').length;
      } catch (error) {
        if (error instanceof ProviderUnavailableError && plan.hasFallback) {
          const rest = await sendOneByOne(campaign, block, beat);
          sent += rest.sent;
          failed += rest.failed;
          continue;
        }
        if (error instanceof ProviderUnavailableError) throw providerUnavailableFailure(error);
        if (!(error instanceof ProviderRejectedError)) throw error;
        for (const { p, message } of messages) {
          if (p.status !== 'pending') continue;
          try {
            const { messageId } = await sender.provider.send(message);
            await record([{ p, messageId }]);
            sent++;
          } catch (single) {
            if (single instanceof ProviderUnavailableError) throw providerUnavailableFailure(single);
            if (!(single instanceof ProviderRejectedError)) throw single;
            await deps.deliveries.markFailed(p.trigger.executionId, p.position, `provider-rejected: ${single.message}`);
            failed++;
          }
        }
      }
      beat();
    }
    return { sent, failed };
  }

  /**
   * SMS and push, and email that fails over: the rendered messages stored (a repeat stores the
   * same), then one attempt each by reference, through the failover chain.
   */
  async function sendOneByOne(campaign: Campaign, ready: Prepared[], beat: () => void): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    const byExecution = new Map<string, Prepared[]>();
    for (const p of ready) {
      const list = byExecution.get(p.trigger.executionId) ?? [];
      list.push(p);
      byExecution.set(p.trigger.executionId, list);
    }
    for (const [executionId, list] of byExecution) {
      const open = list.filter((p) => p.status === 'pending');
      if (open.length === 0) continue;
      await deps.deliveries.recordPreparation(
        executionId,
        campaign.channel,
        open.map((p) => {
          const { address, rendered, locale } = p.result as { address: string; rendered: RenderedEmail; locale?: string };
          return { position: p.position, profileCreated: false, address, ...(locale && { locale }), message: rendered };
        }),
      );
      const attempt = await deps.sendPreparedNow({ executionId, positions: open.map((p) => p.position) });
      sent += attempt.sent.length;
      failed += attempt.rejected.length;
      if (attempt.retry.length > 0) {
        throw batchRetryFailure(executionId, attempt);
      }
      beat();
    }
    return { sent, failed };
  }

  /**
   * One batch of a high-throughput partition (ADR 0010): resumes a batch an earlier attempt
   * left, else claims up to `limit` queued triggers; fails those of a campaign that no longer
   * takes triggers (stopped, or past its end); prepares each recipient from the call
   * alone (no profile), in the sandboxed renderer; sends email in blocks through the provider's
   * batch endpoint and SMS and push one by one, each under its idempotency key; then closes the
   * executions and removes the batch from the queue in one transaction. Safe to retry at any point.
   */
  async function dispatchBatch({ partition, limit }: DispatchBatchInput, beat: () => void = () => heartbeat()): Promise<DispatchBatchResult> {
    const claimed = await deps.queue.claim(partition, limit, nextBatchId());
    if (!claimed) return { triggers: 0, sent: 0, failed: 0 };
    const triggers = await deps.queue.load(claimed.executionIds);
    const campaigns = await campaignsOf(triggers);
    let sent = 0;
    let failed = 0;
    // Campaign by campaign: each campaign version's email blocks and their keys are the same on every attempt.
    const refused = new Map<string, string>();
    for (const [key, { campaign, live }] of [...campaigns].sort(([a], [b]) => a.localeCompare(b))) {
      const { rules } = channelOf(campaign.channel);
      const snapshot = toSnapshot(campaign);
      const own = triggers.filter((t) => `${t.campaignId}@${t.campaignVersion}` === key);
      // As a standard trigger's workflow does: a campaign stopped (or past its end) since the call sends nothing more.
      const refusal = triggerRefusal(live.status, live.schedule, Date.now());
      if (refusal) {
        for (const trigger of own) refused.set(trigger.executionId, refusal);
        failed += own.reduce((n, t) => n + t.recipients.filter((r) => r.status === 'pending').length, 0);
        continue;
      }
      const prepared: Prepared[] = await Promise.all(
        own.flatMap((trigger) =>
          trigger.recipients.map(async ({ position, status, ...recipient }) => ({
            trigger,
            position,
            userId: recipient.userId,
            status,
            // A person erased since the call (profile-erasure.ts renames them): nothing is sent to them.
            result: isErasedRecipient(recipient.userId)
              ? { outcome: { userId: recipient.userId, profileCreated: false, status: 'excluded' as const, reason: 'erased' } }
              : await prepareChannelRecipient(rules, steps, trigger.executionId, snapshot, recipient, trigger.context),
          })),
        ),
      );
      beat();
      failed += await recordOutcomes(prepared, campaign);
      // Whatever their recorded status: the blocks (and their keys) must come out the same on every attempt.
      const ready = prepared.filter((p) => !('outcome' in p.result));
      // Email goes through the provider's batch endpoint; SMS and push one by one.
      if (campaign.channel === 'email') {
        const deliverable = ready.filter((p) => isDeliverableEmailAddress((p.result as { address: string }).address));
        const sendable = new Set(deliverable);
        for (const p of ready.filter((p) => !sendable.has(p) && p.status === 'pending')) {
          await deps.deliveries.markFailed(p.trigger.executionId, p.position, 'provider-rejected: not a deliverable email address');
          failed++;
        }
        const result = await sendEmail(claimed.batchId, campaign, deliverable, beat);
        sent += result.sent;
        failed += result.failed;
      } else {
        const result = await sendOneByOne(campaign, ready, beat);
        sent += result.sent;
        failed += result.failed;
      }
    }
    await deps.queue.finish(claimed.batchId, claimed.executionIds, refused);
    return { batchId: claimed.batchId, triggers: claimed.executionIds.length, sent, failed, ...(claimed.resumed && { resumed: true }) };
  }

  return {
    /** One batch (the dispatcher's activity before drain sessions; runs started before them still call it). */
    dispatchHighThroughputBatch: (input: DispatchBatchInput) => dispatchBatch(input),

    /**
     * A drain session of one partition (ADR 0010): batches back to back, each as
     * dispatchHighThroughputBatch sends it, for as long as triggers keep coming. After a batch
     * that came back short it waits `lingerMs` so that the next one fills (one batch of 100
     * costs about what one of 5 does); a claim that finds nothing ends the session, and so does
     * `sessionMs`. It heartbeats its totals after every batch, which the Temporal UI shows as
     * the activity's progress; a retry after a crash resumes the batch the attempt left.
     */
    async drainHighThroughputPartition({ partition, batchSize, lingerMs, sessionMs }: DrainPartitionInput): Promise<DrainPartitionResult> {
      const partitions = deps.partitions ?? DEFAULT_HIGH_THROUGHPUT_PARTITIONS;
      const context = Context.current();
      const until = Date.now() + sessionMs;
      const totals = { batches: 0, triggers: 0, sent: 0, failed: 0 };
      const beat = () => context.heartbeat(totals);
      // Also while one provider call takes long (PROVIDER_TIMEOUT_MS may be 25 s): the session's
      // heartbeat timeout stays short, so a killed worker's session is retried soon.
      const ticker = setInterval(beat, SESSION_HEARTBEAT_MS);
      // When the previous claim had returned: an empty claim ends the session only at least
      // lingerMs after it, the rule the API's nudges rely on (HIGH_THROUGHPUT_LINGER_MS).
      let previousClaimDone: number | undefined;
      try {
        for (;;) {
          const claimStarts = Date.now();
          const batch = await dispatchBatch({ partition, limit: batchSize }, beat);
          if (batch.triggers === 0) {
            // Past the count, an empty first claim is made again after the linger before the
            // dispatcher ends: a trigger the API did not nudge, because it was committed within the
            // linger of one a claim before this session took (a session that ran out of time, a
            // run before continue-as-new), is committed by then. Within the count the idle timer
            // finds such a trigger.
            if (previousClaimDone === undefined && partition >= partitions) {
              previousClaimDone = claimStarts;
              await context.sleep(lingerMs);
              continue;
            }
            if (previousClaimDone === undefined || claimStarts - previousClaimDone >= lingerMs) {
              return { ...totals, more: false, ...(partition >= partitions && { retire: true as const }) };
            }
            await context.sleep(previousClaimDone + lingerMs - claimStarts);
            continue;
          }
          previousClaimDone = Date.now();
          totals.batches++;
          totals.triggers += batch.triggers;
          totals.sent += batch.sent;
          totals.failed += batch.failed;
          beat();
          if (Date.now() >= until) return { ...totals, more: true };
          if (batch.triggers < batchSize) await context.sleep(lingerMs);
        }
      } finally {
        clearInterval(ticker);
      }
    },
  };
}
