import { DomainError, notFound } from '../domain/errors';
import type { Campaign } from '../domain/campaign';
import { topicRunAudienceId } from '../domain/topic';
import { audienceExecution } from '../../workflows/audience-execution';
import { audienceExecutionWorkflowId } from '../../workflows/workflow-ids';
import { AudienceRunRepository } from '../repositories/audience-runs';
import { TopicRepository } from '../repositories/topics';
import { checkBatchRunnable } from './audience-execution-intake';
import { checkTriggerContext } from './context-validation';
import { MAX_CONTEXT_BYTES } from './execution-intake';
import type { WorkflowDescription } from '../temporal-client/execution-start';
import { idempotentStart, requestHash, type TriggerCaller } from './idempotent-start';
import type { ServiceDependencies } from './service-dependencies';
import { existingTopic } from './topics';

export interface TopicTrigger {
  /** Idempotency key: a repeat with the same body answers the same execution. */
  requestId: string;
  campaignId: string;
  /** The topic's key. */
  topic: string;
  context?: Record<string, unknown>;
  /** The person who caused the call ("X commented on a thread you follow"): left out of the fan-out. */
  excludeActor?: { namespace: string; userId: string };
}

/** `replayed`: the call repeats an earlier one (same requestId and body) and started nothing new. */
export interface AcceptedTopicExecution {
  executionId: string;
  requestId: string;
  campaignId: string;
  replayed: boolean;
}

/** What operators see in the Temporal UI: ids and counts, never an address or userId (the topic's key is the caller's slug). */
function topicRunDescription(campaign: Campaign, trigger: TopicTrigger, executionId: string): WorkflowDescription {
  return {
    summary: `${campaign.channel} "${campaign.name}" to topic ${trigger.topic} (request ${trigger.requestId})`,
    details: `Topic execution ${executionId} · campaign ${campaign.id} v${campaign.version} · topic ${trigger.topic}. Progress is in the current details; recipients are in Herald: GET /v1/executions/${executionId}`,
  };
}

/**
 * Accepts a fan-out of a campaign (transactional or marketing) to the subscribers a topic has at
 * the moment of the call, as one audience execution: the same workflow, batches, exactly-once
 * sends, status and counts, through the one start path (idempotent by requestId).
 *
 * The snapshot is taken by the call, not by the run: once the call is claimed, the topic's
 * subscribers of the campaign's namespace (less excludeActor) are frozen into the execution's
 * pending deliveries with the audience runs' own freeze (one INSERT … SELECT), which also marks
 * the run started, before its workflow starts. The workflow's beginAudienceRun then finds the run
 * frozen and changes nothing, as on any retry. That is simpler than a cutoff instant, which would
 * have to keep removed subscriptions as tombstones until every run called before their removal
 * has started. Subscribers of other namespaces are left out: the campaign sends to one namespace.
 *
 * The freeze commits apart from the claim (the claim is the executions repository's own
 * transaction). A call that stopped in between left a claim without members: a repeat of it (the
 * same requestId and body) freezes first, before it may start the workflow; the freeze is done
 * once, so every other path finds it done. Without a repeat the orphan sweep fails the execution
 * as not-started, as for any call that stopped before its start.
 */
export async function acceptTopicTrigger(deps: ServiceDependencies, trigger: TopicTrigger, caller: TriggerCaller = {}): Promise<AcceptedTopicExecution> {
  if (trigger.context && Buffer.byteLength(JSON.stringify(trigger.context)) > MAX_CONTEXT_BYTES) {
    throw new DomainError('too-large', 'context-too-large', 'Context too large', `Context may be at most ${MAX_CONTEXT_BYTES} bytes of JSON.`);
  }
  const campaign = await deps.campaigns.get(trigger.campaignId);
  if (!campaign) throw notFound(`Campaign ${trigger.campaignId}`);
  const { requestId } = trigger;
  const namespace = campaign.audience.namespace;
  const runs = new AudienceRunRepository(deps.db);
  const topics = new TopicRepository(deps.db);
  const hash = requestHash({ ...trigger, kind: 'topic' });
  const actor = trigger.excludeActor?.namespace === namespace ? trigger.excludeActor.userId : undefined;
  const freezeSubscribers = (executionId: string) =>
    runs.freeze(executionId, campaign.channel, namespace, new Date().toISOString(), (db) => topics.subscriberUserIds(db, trigger.topic, namespace, actor));

  return idempotentStart(deps, {
    campaign,
    requestId,
    mayRepeat: true,
    requestHash: hash,
    workflowId: audienceExecutionWorkflowId(campaign.id, requestId),
    caller,
    check: async () => {
      checkBatchRunnable(campaign, undefined);
      const topic = await existingTopic(deps, trigger.topic);
      // Subscribers have no context of their own: the shared context is what each of them renders with.
      checkTriggerContext(campaign, [{ userId: '', namespace }], trigger.context);
      return topic;
    },
    claim: async (identity, topic) => {
      const claim = await runs.claim(
        { ...identity, audienceId: topicRunAudienceId(topic.key), ...(trigger.context && { context: trigger.context }) },
        campaign.channel,
      );
      if (claim.kind === 'created') await freezeSubscribers(claim.executionId);
      return claim;
    },
    // A repeat, found by the claim or after a refusal, freezes too before it may start the workflow (at most one freeze does anything).
    beforeRepeat: freezeSubscribers,
    workflow: (executionId) => ({
      workflow: audienceExecution,
      input: { executionId, campaignId: campaign.id },
      ...topicRunDescription(campaign, trigger, executionId),
    }),
    answer: (executionId, replayed) => ({ executionId, requestId, campaignId: campaign.id, replayed }),
  });
}
