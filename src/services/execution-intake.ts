import { DomainError, invalidRequest, notFound } from '../domain/errors';
import type { ServiceDependencies } from './service-dependencies';
import { acceptsTriggers, scheduleWindowPosition, type Campaign } from '../domain/campaign';
import type { Recipient } from '../domain/recipient';
import { triggerExecution } from '../../workflows/trigger-execution';
import { campaignStepsExecution } from '../../workflows/campaign-steps-execution';
import { executionWorkflowId, highThroughputDispatcherId } from '../../workflows/workflow-ids';
import { isHighThroughput, partitionOf } from '../domain/high-throughput';
import { nudgeDispatcher } from './high-throughput-dispatchers';
import { checkTriggerContext } from './context-validation';
import { idempotentStart, requestHash, workflowStartMetadata, type TriggerCaller, type WorkflowDescription, type WorkflowToStart } from './idempotent-start';

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

/** What operators read in the Temporal UI: ids and counts only, never an address or userId. */
function executionDescription(
  campaign: Pick<Campaign, 'name' | 'version' | 'channel' | 'id' | 'steps'>,
  trigger: Pick<UnitaryTrigger, 'requestId' | 'recipients'>,
  executionId: string,
): WorkflowDescription {
  const count = trigger.recipients.length;
  const recipients = `${count} recipient${count === 1 ? '' : 's'}`;
  const stepCount = campaign.steps?.length ?? 0;
  const steps = stepCount > 0 ? ` in ${stepCount} step${stepCount === 1 ? '' : 's'}` : '';
  return {
    summary: `${campaign.channel} "${campaign.name}" to ${recipients}${steps} (request ${trigger.requestId})`,
    details: `Execution ${executionId} · campaign ${campaign.id} v${campaign.version} · ${recipients}. Recipients, context and rendered content are in Herald: GET /v1/executions/${executionId}`,
  };
}

/** What a unitary execution's workflow starts with: its search attributes, summary and details. The bench reuses it. */
export function executionStartMetadata(
  campaign: Pick<Campaign, 'id' | 'name' | 'version' | 'channel' | 'type'>,
  trigger: Pick<UnitaryTrigger, 'requestId' | 'recipients'>,
  executionId: string,
) {
  return workflowStartMetadata(campaign, trigger.requestId, executionDescription(campaign, trigger, executionId));
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
  const queue = isHighThroughput(campaign) ? { partition: partitionOf(requestId), queuedAt: Date.now() } : undefined;
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
      // High-throughput: committed (synced to disk) with the calls around it, in one transaction per group.
      if (queue) return deps.highThroughputClaims.claim(execution, queue.partition);
      return deps.executions.claim(execution, trigger.cancellationKey === undefined ? {} : { cancellation_key: trigger.cancellationKey });
    },
    // Ids only: the recipients and context were stored with the claim, keyed by executionId.
    // A campaign with steps runs them in a workflow of its own (workflows/campaign-steps-execution.ts).
    ...(!queue && {
      workflow: (executionId: string): WorkflowToStart<typeof triggerExecution | typeof campaignStepsExecution> =>
        campaign.steps && campaign.steps.length > 0
          ? {
              workflow: campaignStepsExecution,
              input: { executionId, requestId, campaignId: campaign.id },
              ...executionDescription(campaign, trigger, executionId),
            }
          : { workflow: triggerExecution, input: { executionId, requestId, campaignId: campaign.id }, ...executionDescription(campaign, trigger, executionId) },
    }),
    answer: (executionId, replayed) => {
      // Committed: wake the partition's dispatcher, without waiting for Temporal.
      if (queue && !replayed) nudgeDispatcher(deps.temporal, highThroughputDispatcherId(deps.config.temporal.taskQueue, queue.partition), queue.queuedAt);
      return { executionId, requestId, campaignId: campaign.id, replayed };
    },
  });
}
