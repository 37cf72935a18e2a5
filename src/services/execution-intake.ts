import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import stringify from 'safe-stable-stringify';
import { monotonicFactory } from 'ulid';
import { DomainError, invalidRequest, notFound } from '../domain/errors';
import type { ServiceDependencies } from './service-dependencies';
import { acceptsTriggers, scheduleWindowPosition, type Campaign } from '../domain/campaign';
import type { Recipient } from '../domain/recipient';
import { triggerExecution, type TriggerExecutionInput } from '../../workflows/trigger-execution';
import { CampaignIdAttribute, CampaignTypeAttribute, ChannelAttribute, RequestIdAttribute } from '../../workflows/search-attributes';
import { executionWorkflowId } from '../../workflows/workflow-ids';
import { withCallDeadline } from '../temporal-client/connection';

const nextId = monotonicFactory();
export const MAX_CONTEXT_BYTES = 200 * 1024;

export interface UnitaryTrigger {
  requestId: string;
  campaignId: string;
  recipients: Recipient[];
  context?: Record<string, unknown>;
}

export interface AcceptedExecution {
  executionId: string;
  requestId: string;
  campaignId: string;
}

/** Same body, same hash: key order and whitespace do not matter. */
function requestHash(trigger: UnitaryTrigger): string {
  return createHash('sha256').update(stringify(trigger) ?? '').digest('hex');
}

function contextBytes(trigger: UnitaryTrigger): number {
  const contexts = [trigger.context, ...trigger.recipients.map((r) => r.context)].filter(Boolean);
  return contexts.reduce((total, context) => total + Buffer.byteLength(JSON.stringify(context)), 0);
}

function checkAcceptsTriggers(campaign: Campaign, trigger: UnitaryTrigger): void {
  const wrongNamespace = trigger.recipients.flatMap((r, i) => (r.namespace === campaign.audience.namespace ? [] : [{ field: `recipients.${i}.namespace`, message: `must be "${campaign.audience.namespace}", the campaign's namespace` }]));
  if (wrongNamespace.length > 0) throw invalidRequest(wrongNamespace, 'Recipients must use the campaign audience namespace.');
  if (!acceptsTriggers(campaign.status)) {
    throw new DomainError('conflict', 'campaign-not-live', 'Campaign is not live', `Campaign ${campaign.id} is ${campaign.status}; only a live campaign accepts triggers.`);
  }
  const position = scheduleWindowPosition(campaign.schedule, Date.now());
  if (position !== 'open') {
    const when = position === 'before-start' ? `starts at ${campaign.schedule.startAt}` : `ended at ${campaign.schedule.endAt}`;
    throw new DomainError('unprocessable', 'campaign-outside-schedule', 'Campaign is outside its schedule', `Campaign ${campaign.id} ${when}.`);
  }
}

/** What operators see and filter on in the Temporal UI for each execution; the bench reuses it. */
export function executionStartMetadata(campaign: Pick<Campaign, 'id' | 'name' | 'version' | 'channel' | 'type'>, trigger: Pick<UnitaryTrigger, 'requestId' | 'recipients'>, executionId: string) {
  const first = trigger.recipients[0]!.userId;
  const who = trigger.recipients.length === 1 ? first : `${first} and ${trigger.recipients.length - 1} more`;
  return {
    typedSearchAttributes: [
      { key: CampaignIdAttribute, value: campaign.id },
      { key: RequestIdAttribute, value: trigger.requestId },
      { key: ChannelAttribute, value: campaign.channel },
      { key: CampaignTypeAttribute, value: campaign.type },
    ],
    staticSummary: `${campaign.channel} "${campaign.name}" to ${who} (request ${trigger.requestId})`,
    staticDetails: `Execution ${executionId} · campaign ${campaign.id} v${campaign.version} · ${trigger.recipients.length} recipient(s): ${trigger.recipients.map((r) => r.userId).join(', ')}`,
  };
}

async function startWorkflow(deps: ServiceDependencies, campaign: Campaign, trigger: UnitaryTrigger, executionId: string, workflowId: string): Promise<void> {
  const input: TriggerExecutionInput = { executionId, requestId: trigger.requestId, campaignId: campaign.id, recipients: trigger.recipients, ...(trigger.context && { context: trigger.context }) };
  try {
    await withCallDeadline(deps.temporal, () => deps.temporal.workflow.start(triggerExecution, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId,
      args: [input],
      // A repeat after a crash between claim and start starts it; a repeat of a finished run does not.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      ...executionStartMetadata(campaign, trigger, executionId),
    }));
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Accepts a unitary trigger: answers synchronously for everything it can check, records the
 * requestId so that repeats are idempotent, and starts one workflow per call.
 */
export async function acceptUnitaryTrigger(deps: ServiceDependencies, trigger: UnitaryTrigger): Promise<AcceptedExecution> {
  if (contextBytes(trigger) > MAX_CONTEXT_BYTES) {
    throw new DomainError('too-large', 'context-too-large', 'Context too large', `Context may be at most ${MAX_CONTEXT_BYTES} bytes of JSON in total.`);
  }
  const campaign = await deps.campaigns.get(trigger.campaignId);
  if (!campaign) throw notFound(`Campaign ${trigger.campaignId}`);

  const hash = requestHash(trigger);
  const workflowId = executionWorkflowId(campaign.id, trigger.requestId);
  const accepted = { requestId: trigger.requestId, campaignId: campaign.id };
  const previous = await deps.executions.findClaim(trigger.requestId);
  if (previous) {
    if (previous.requestHash !== hash) throw requestIdConflict(trigger.requestId);
    await startWorkflow(deps, campaign, trigger, previous.executionId, previous.workflowId);
    return { executionId: previous.executionId, ...accepted };
  }

  checkAcceptsTriggers(campaign, trigger);
  const claim = await deps.executions.claim({
    id: nextId(),
    requestId: trigger.requestId,
    requestHash: hash,
    campaignId: campaign.id,
    campaignVersion: campaign.version,
    workflowId,
    channel: campaign.channel,
    recipients: trigger.recipients,
  });
  if (claim.kind === 'conflict') throw requestIdConflict(trigger.requestId);
  await startWorkflow(deps, campaign, trigger, claim.executionId, claim.workflowId);
  return { executionId: claim.executionId, ...accepted };
}

const requestIdConflict = (requestId: string) =>
  new DomainError('conflict', 'request-id-conflict', 'requestId already used', `requestId ${requestId} was already used with a different body; use a new requestId for a new call.`);
