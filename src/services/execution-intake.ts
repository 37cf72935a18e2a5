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
import { NOT_STARTED_REASON, type ExecutionClaimRecord } from '../repositories/executions';
import { withCallDeadline } from '../temporal-client/connection';
import { checkTriggerContext } from './context-validation';

const nextId = monotonicFactory();
export const MAX_CONTEXT_BYTES = 200 * 1024;

export interface UnitaryTrigger {
  requestId: string;
  campaignId: string;
  recipients: Recipient[];
  context?: Record<string, unknown>;
  /** Pins the call to this version of the campaign: accepted only while it is the live one. */
  campaignVersion?: number;
}

export interface AcceptedExecution {
  executionId: string;
  requestId: string;
  campaignId: string;
  /** True when the call repeats an earlier one (same requestId and body): nothing new was started. */
  replayed: boolean;
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
  if (trigger.campaignVersion !== undefined && trigger.campaignVersion !== campaign.version) {
    throw new DomainError('conflict', 'campaign-version-not-live', 'Campaign version is not live', `The call pins version ${trigger.campaignVersion} of campaign ${campaign.id}, whose live version is ${campaign.version}.`);
  }
  const position = scheduleWindowPosition(campaign.schedule, Date.now());
  if (position !== 'open') {
    const when = position === 'before-start' ? `starts at ${campaign.schedule.startAt}` : `ended at ${campaign.schedule.endAt}`;
    throw new DomainError('unprocessable', 'campaign-outside-schedule', 'Campaign is outside its schedule', `Campaign ${campaign.id} ${when}.`);
  }
}

/**
 * What operators see and filter on in the Temporal UI for each execution: ids and counts only,
 * never an address or userId (history is no place for personal data). The bench reuses it.
 */
export function executionStartMetadata(campaign: Pick<Campaign, 'id' | 'name' | 'version' | 'channel' | 'type'>, trigger: Pick<UnitaryTrigger, 'requestId' | 'recipients'>, executionId: string) {
  const count = trigger.recipients.length;
  const recipients = `${count} recipient${count === 1 ? '' : 's'}`;
  return {
    typedSearchAttributes: [
      { key: CampaignIdAttribute, value: campaign.id },
      { key: RequestIdAttribute, value: trigger.requestId },
      { key: ChannelAttribute, value: campaign.channel },
      { key: CampaignTypeAttribute, value: campaign.type },
    ],
    staticSummary: `${campaign.channel} "${campaign.name}" to ${recipients} (request ${trigger.requestId})`,
    staticDetails: `Execution ${executionId} · campaign ${campaign.id} v${campaign.version} · ${recipients}. Recipients, context and rendered content are in Herald: GET /v1/executions/${executionId}`,
  };
}

async function startWorkflow(deps: ServiceDependencies, campaign: Campaign, trigger: UnitaryTrigger, executionId: string, workflowId: string): Promise<void> {
  // Ids only: the recipients and context were stored with the claim, keyed by executionId.
  const input: TriggerExecutionInput = { executionId, requestId: trigger.requestId, campaignId: campaign.id };
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
 * A repeat only (re)starts the workflow while the execution may still lack one: it is running
 * (the first call may have stopped between its claim and the start), or the orphan sweep closed
 * it as not-started. A finished execution answers from Herald's database alone: once Temporal's
 * retention has forgotten its workflow, starting it again would send a second time.
 */
function mayLackWorkflow(claim: ExecutionClaimRecord): boolean {
  return claim.status === 'running' || (claim.status === 'failed' && claim.failureReason === NOT_STARTED_REASON);
}

export interface TriggerCaller {
  /** The API key that makes the call, recorded so a trigger-scoped key can read what it started. */
  startedByKeyId?: string;
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

  const hash = requestHash(trigger);
  const accepted = { requestId: trigger.requestId, campaignId: campaign.id };
  // A repeat, even one racing the first call's start, starts nothing new: the workflow id is the
  // requestId's and the start uses the existing run, so it answers once that workflow exists.
  const repeat = async (claim: ExecutionClaimRecord): Promise<AcceptedExecution> => {
    if (claim.requestHash !== hash) throw requestIdConflict(trigger.requestId);
    if (mayLackWorkflow(claim)) {
      if (claim.status === 'failed') await deps.executions.reopenNotStarted(claim.executionId);
      await startWorkflow(deps, campaign, trigger, claim.executionId, claim.workflowId);
    }
    return { executionId: claim.executionId, ...accepted, replayed: true };
  };
  const previous = await deps.executions.findClaim(trigger.requestId);
  if (previous) return repeat(previous);

  checkAcceptsTriggers(campaign, trigger);
  // Before the claim: a call that breaks the contextSchema leaves no execution and starts nothing.
  checkTriggerContext(campaign, trigger.recipients, trigger.context);
  const claim = await deps.executions.claim({
    id: nextId(),
    requestId: trigger.requestId,
    requestHash: hash,
    campaignId: campaign.id,
    campaignVersion: campaign.version,
    workflowId: executionWorkflowId(campaign.id, trigger.requestId),
    channel: campaign.channel,
    recipients: trigger.recipients,
    ...(trigger.context && { context: trigger.context }),
    ...(caller.startedByKeyId && { startedByKeyId: caller.startedByKeyId }),
  });
  if (claim.kind === 'conflict') throw requestIdConflict(trigger.requestId);
  if (claim.kind === 'repeat') return repeat(claim.claim);
  await startWorkflow(deps, campaign, trigger, claim.executionId, claim.workflowId);
  return { executionId: claim.executionId, ...accepted, replayed: false };
}

const requestIdConflict = (requestId: string) =>
  new DomainError('conflict', 'request-id-conflict', 'requestId already used', `requestId ${requestId} was already used with a different body; use a new requestId for a new call.`);
