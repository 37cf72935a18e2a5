import { DomainError, invalidRequest, notFound } from '../domain/errors';
import type { ServiceDependencies } from './service-dependencies';
import { acceptsTriggers, scheduleWindowPosition, type Campaign } from '../domain/campaign';
import type { Recipient } from '../domain/recipient';
import { executionWorkflowId, highThroughputDispatcherId } from '../../workflows/workflow-ids';
import { isHighThroughput, partitionOf } from '../domain/high-throughput';
import { dispatcherSettingOf, nudgeDispatcher } from './high-throughput-dispatchers';
import { checkTriggerContext } from './context-validation';
import { workflowStartMetadata } from '../temporal-client/execution-start';
import { idempotentStart, requestHash, type TriggerCaller } from './idempotent-start';
import { unitaryExecutionDescription, unitaryExecutionWorkflow } from '../temporal-client/unitary-execution-workflow';

export type { TriggerCaller } from './idempotent-start';
export const MAX_CONTEXT_BYTES = 200 * 1024;

export interface UnitaryTrigger {
  requestId: string;
  campaignId: string;
  recipients: Recipient[];
  context?: Record<string, unknown>;
  /** Pins the call to this version of the campaign: accepted only while it is the live one. */
  campaignVersion?: number;
  /** Campaigns with steps: POST /v1/executions/cancel stops the runs of the campaign with this key. */
  cancellationKey?: string;
}

export interface AcceptedExecution {
  executionId: string;
  requestId: string;
  campaignId: string;
  /** True when the call repeats an earlier one (same requestId and body): nothing new was started. */
  replayed: boolean;
}

function contextBytes(trigger: UnitaryTrigger): number {
  const contexts = [trigger.context, ...trigger.recipients.map((r) => r.context)].filter(Boolean);
  return contexts.reduce((total, context) => total + Buffer.byteLength(JSON.stringify(context)), 0);
}

function checkAcceptsTriggers(campaign: Campaign, trigger: UnitaryTrigger): void {
  const wrongNamespace = trigger.recipients.flatMap((r, i) =>
    r.namespace === campaign.audience.namespace
      ? []
      : [{ field: `recipients.${i}.namespace`, message: `must be "${campaign.audience.namespace}", the campaign's namespace` }],
  );
  if (wrongNamespace.length > 0) throw invalidRequest(wrongNamespace, 'Recipients must use the campaign audience namespace.');
  if (!acceptsTriggers(campaign.status)) {
    throw new DomainError(
      'conflict',
      'campaign-not-live',
      'Campaign is not live',
      `Campaign ${campaign.id} is ${campaign.status}; only a live campaign accepts triggers.`,
    );
  }
  if (trigger.campaignVersion !== undefined && trigger.campaignVersion !== campaign.version) {
    throw new DomainError(
      'conflict',
      'campaign-version-not-live',
      'Campaign version is not live',
      `The call pins version ${trigger.campaignVersion} of campaign ${campaign.id}, whose live version is ${campaign.version}.`,
    );
  }
  // A digest gathers one person's triggers: a call for several people would belong to several digests.
  if (campaign.steps?.[0]?.type === 'digest' && trigger.recipients.length > 1) {
    throw invalidRequest(
      [{ field: 'recipients', message: 'a campaign whose first step is a digest takes one recipient per call' }],
      'A digest campaign takes one recipient per call.',
    );
  }
  const position = scheduleWindowPosition(campaign.schedule, Date.now());
  if (position !== 'open') {
    const when = position === 'before-start' ? `starts at ${campaign.schedule.startAt}` : `ended at ${campaign.schedule.endAt}`;
    throw new DomainError('unprocessable', 'campaign-outside-schedule', 'Campaign is outside its schedule', `Campaign ${campaign.id} ${when}.`);
  }
}

/** What a unitary execution's workflow starts with: its search attributes, summary and details. The bench reuses it. */
export function executionStartMetadata(
  campaign: Pick<Campaign, 'id' | 'name' | 'version' | 'channel' | 'type' | 'steps'>,
  trigger: Pick<UnitaryTrigger, 'requestId' | 'recipients'>,
  executionId: string,
) {
  return workflowStartMetadata(
    campaign,
    trigger.requestId,
    unitaryExecutionDescription(campaign, { executionId, requestId: trigger.requestId, recipientCount: trigger.recipients.length }),
  );
}

/**
 * Accepts a unitary trigger: answers synchronously for everything it can check, records the
 * requestId with the call's recipients and context so that repeats are idempotent, and starts
 * one workflow per call.
 */
export async function acceptUnitaryTrigger(deps: ServiceDependencies, trigger: UnitaryTrigger, caller: TriggerCaller = {}): Promise<AcceptedExecution> {
  if (contextBytes(trigger) > MAX_CONTEXT_BYTES) {
    throw new DomainError('too-large', 'context-too-large', 'Context too large', `Context may be at most ${MAX_CONTEXT_BYTES} bytes of JSON in total.`);
  }
  const campaign = await deps.campaigns.get(trigger.campaignId);
  if (!campaign) throw notFound(`Campaign ${trigger.campaignId}`);

  const { requestId } = trigger;
  // A high-throughput campaign (ADR 0010): the claim's transaction also queues the trigger for its
  // partition's dispatcher and is synced to disk, so the 202 means committed; no workflow is started
  // and Temporal is not called.
  // queuedAt: before the claim's commit, for the nudge's gap rule (high-throughput-dispatchers.ts).
  const queue = isHighThroughput(campaign)
    ? { partition: partitionOf(requestId, deps.config.temporal.highThroughputPartitions), queuedAt: Date.now() }
    : undefined;
  // A campaign without steps (ADR 0011): the claim is synced to disk, and the answer waits for the
  // workflow's start at most HERALD_START_WAIT_MS; the orphan sweep starts what the API did not.
  // Campaigns with steps keep waiting for the start: POST /v1/executions/cancel signals their runs.
  const answerBeforeStart = !queue && !(campaign.steps && campaign.steps.length > 0);
  return idempotentStart(deps, {
    campaign,
    requestId,
    mayRepeat: true,
    requestHash: requestHash(trigger),
    workflowId: queue ? highThroughputDispatcherId(deps.config.temporal.taskQueue, queue.partition) : executionWorkflowId(campaign.id, requestId),
    caller,
    check: () => {
      checkAcceptsTriggers(campaign, trigger);
      // Before the claim: a call that breaks the contextSchema leaves no execution and starts nothing.
      checkTriggerContext(campaign, trigger.recipients, trigger.context);
    },
    claim: (identity) => {
      const execution = { ...identity, channel: campaign.channel, recipients: trigger.recipients, ...(trigger.context && { context: trigger.context }) };
      // Synced to disk with the calls around it, in one transaction per group.
      const columns = trigger.cancellationKey === undefined ? {} : { cancellation_key: trigger.cancellationKey };
      if (queue) return deps.durableClaims.claim(execution, queue.partition);
      if (answerBeforeStart) return deps.durableClaims.claim(execution, undefined, columns);
      return deps.executions.claim(execution, columns);
    },
    // Ids only: the recipients and context were stored with the claim, keyed by executionId.
    ...(!queue && {
      // A repeat of a call claimed under an older version runs that version's workflow (with or without steps).
      workflow: async (executionId: string, version: number) =>
        unitaryExecutionWorkflow(version === campaign.version ? campaign : ((await deps.campaigns.getAtVersion(campaign.id, version)) ?? campaign), {
          executionId,
          requestId,
          recipientCount: trigger.recipients.length,
        }),
      answerBeforeStart,
    }),
    answer: (executionId, replayed) => {
      // Committed: wake the partition's dispatcher, without waiting for Temporal.
      if (queue && !replayed) nudgeDispatcher(deps.temporal, dispatcherSettingOf(deps.config), queue.partition, queue.queuedAt);
      return { executionId, requestId, campaignId: campaign.id, replayed };
    },
  });
}
