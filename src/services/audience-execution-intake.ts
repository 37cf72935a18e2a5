import { WorkflowNotFoundError } from '@temporalio/client';
import { ulidFactory } from '../ids/ulid-factory';
import { DomainError, notFound } from '../domain/errors';
import type { Campaign } from '../domain/campaign';
import { hasWaitingSteps } from '../domain/campaign-steps';
import { triggerRefusal } from '../domain/trigger-refusal';
import { audienceScheduleStatus, SCHEDULE_CANCELLED_REASON, type AudienceScheduleStatus } from '../domain/audience-execution';
import { audienceExecution } from '../../workflows/audience-execution';
import { audienceExecutionWorkflowId } from '../../workflows/workflow-ids';
import { AudienceRepository } from '../repositories/audiences';
import { AudienceRunRepository, type AudienceScheduleRecord } from '../repositories/audience-runs';
import { withCallDeadline } from '../temporal-client/connection';
import { checkTriggerContext } from './context-validation';
import { MAX_CONTEXT_BYTES } from './execution-intake';
import type { WorkflowDescription } from '../temporal-client/execution-start';
import { idempotentStart, requestHash, type TriggerCaller } from './idempotent-start';
import type { ServiceDependencies } from './service-dependencies';

const nextId = ulidFactory();

/** How far ahead a run may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;

export interface AudienceTrigger {
  /** Idempotency key; absent: every call is a new run. */
  requestId?: string;
  campaignId: string;
  audienceId: string;
  context?: Record<string, unknown>;
  throttlePerSecond?: number;
  /** ISO 8601 instant: the run starts then instead of now. */
  executeAt?: string;
}

/** `replayed`: the call repeats an earlier one (same requestId and body) and started nothing new. */
export type AcceptedAudienceExecution =
  | { kind: 'started'; executionId: string; requestId: string; campaignId: string; replayed: boolean }
  | { kind: 'scheduled'; scheduleId: string; executeAt: string; status: AudienceScheduleStatus; replayed: boolean };

export interface AudienceScheduleView {
  scheduleId: string;
  executionId: string;
  campaignId: string;
  audienceId: string;
  executeAt: string;
  status: AudienceScheduleStatus;
  createdAt: string;
}

/** What operators see in the Temporal UI: ids and counts, never an address or userId. */
function audienceRunDescription(campaign: Campaign, trigger: AudienceTrigger, requestId: string, executionId: string): WorkflowDescription {
  const throttle = trigger.throttlePerSecond ? ` at most ${trigger.throttlePerSecond}/s` : '';
  return {
    summary: `${campaign.channel} "${campaign.name}" to audience ${trigger.audienceId}${throttle} (request ${requestId})`,
    details: `Audience execution ${executionId} · campaign ${campaign.id} v${campaign.version} · audience ${trigger.audienceId}${trigger.executeAt ? ` · scheduled for ${trigger.executeAt}` : ''}. Progress is in the current details; recipients are in Herald: GET /v1/executions/${executionId}`,
  };
}

function checkCampaign(campaign: Campaign, executeAt: string | undefined): void {
  if (campaign.type !== 'marketing') {
    throw new DomainError(
      'unprocessable',
      'campaign-not-marketing',
      'Campaign is not a marketing campaign',
      `Campaign ${campaign.id} is ${campaign.type}; audience executions run marketing campaigns only.`,
    );
  }
  checkBatchRunnable(campaign, executeAt);
}

/**
 * What an audience run asks of its campaign whatever its type (topic executions run transactional
 * campaigns too): live, inside its window unless scheduled, and without steps.
 */
export function checkBatchRunnable(campaign: Campaign, executeAt: string | undefined): void {
  const refusal = triggerRefusal(campaign.status, campaign.schedule, Date.now());
  if (refusal === 'campaign-not-live') {
    throw new DomainError(
      'conflict',
      'campaign-not-live',
      'Campaign is not live',
      `Campaign ${campaign.id} is ${campaign.status}; only a live campaign accepts executions.`,
    );
  }
  // A scheduled run is judged against the campaign's window when it fires.
  if (refusal === 'campaign-outside-schedule' && !executeAt) {
    throw new DomainError(
      'unprocessable',
      'campaign-outside-schedule',
      'Campaign is outside its schedule',
      `Campaign ${campaign.id} does not accept executions now (startAt ${campaign.schedule.startAt ?? '-'}, endAt ${campaign.schedule.endAt ?? '-'}).`,
    );
  }
  // An audience run sends in batches and holds no per-recipient wait yet (issue 20): refused rather than run without its waits.
  if (hasWaitingSteps(campaign.steps)) {
    throw new DomainError(
      'conflict',
      'campaign-has-waiting-steps',
      'Campaign has waiting steps',
      `Campaign ${campaign.id} has delay, digest or waitForEvent steps: audience executions of campaigns with delay/digest/waitForEvent steps are not supported yet. Unitary triggers (POST /v1/executions/unitary) run every step.`,
    );
  }
  // Steps without a wait (sends and conditions) would need the batches to run each member's steps: refused, not run as one send.
  if (campaign.steps && campaign.steps.length > 0) {
    throw new DomainError(
      'conflict',
      'campaign-has-steps',
      'Campaign has steps',
      `Campaign ${campaign.id} has steps: audience executions run a campaign's one message and do not run steps yet. Unitary triggers (POST /v1/executions/unitary) run every step.`,
    );
  }
}

function checkExecuteAt(executeAt: string | undefined): void {
  if (!executeAt) return;
  const at = Date.parse(executeAt);
  if (at <= Date.now())
    throw new DomainError(
      'unprocessable',
      'schedule-in-the-past',
      'executeAt is not in the future',
      `schedule.executeAt ${executeAt} has passed; omit schedule to run now.`,
    );
  if (at - Date.now() > MAX_SCHEDULE_AHEAD_MS)
    throw new DomainError('unprocessable', 'schedule-too-far', 'executeAt is too far ahead', 'schedule.executeAt may be at most 366 days ahead.');
}

function scheduleView(record: AudienceScheduleRecord): AudienceScheduleView {
  return {
    scheduleId: record.scheduleId,
    executionId: record.executionId,
    campaignId: record.campaignId,
    audienceId: record.audienceId,
    executeAt: record.executeAt,
    status: audienceScheduleStatus(record),
    createdAt: record.createdAt,
  };
}

/**
 * Accepts a run of a marketing campaign for a whole audience, now or at `executeAt`: checks
 * what it can synchronously, records the call (idempotent by requestId, like unitary calls), and
 * starts one workflow, delayed by Temporal itself when scheduled.
 */
export async function acceptAudienceTrigger(
  deps: ServiceDependencies,
  trigger: AudienceTrigger,
  caller: TriggerCaller = {},
): Promise<AcceptedAudienceExecution> {
  if (trigger.context && Buffer.byteLength(JSON.stringify(trigger.context)) > MAX_CONTEXT_BYTES) {
    throw new DomainError('too-large', 'context-too-large', 'Context too large', `Context may be at most ${MAX_CONTEXT_BYTES} bytes of JSON.`);
  }
  const campaign = await deps.campaigns.get(trigger.campaignId);
  if (!campaign) throw notFound(`Campaign ${trigger.campaignId}`);
  const runs = new AudienceRunRepository(deps.db);
  const requestId = trigger.requestId ?? `audience-${nextId()}`;
  return idempotentStart(deps, {
    campaign,
    requestId,
    mayRepeat: Boolean(trigger.requestId),
    requestHash: requestHash({ ...trigger, kind: 'audience' }),
    workflowId: audienceExecutionWorkflowId(campaign.id, requestId),
    caller,
    check: async () => {
      checkCampaign(campaign, trigger.executeAt);
      checkExecuteAt(trigger.executeAt);
      const audience = await new AudienceRepository(deps.db).get(trigger.audienceId);
      if (!audience) throw notFound(`Audience ${trigger.audienceId}`);
      if (audience.namespace !== campaign.audience.namespace) {
        throw new DomainError(
          'unprocessable',
          'audience-namespace-mismatch',
          'Audience and campaign namespaces differ',
          `Audience ${audience.id} holds profiles of namespace "${audience.namespace}"; campaign ${campaign.id} sends to namespace "${campaign.audience.namespace}".`,
        );
      }
      // Members have no context of their own: the shared context is what each of them renders with.
      checkTriggerContext(campaign, [{ userId: '', namespace: audience.namespace }], trigger.context);
      return audience;
    },
    claim: (identity, audience) =>
      runs.claim(
        {
          ...identity,
          audienceId: audience.id,
          ...(trigger.context && { context: trigger.context }),
          ...(trigger.throttlePerSecond !== undefined && { throttlePerSecond: trigger.throttlePerSecond }),
          ...(trigger.executeAt && { schedule: { id: `sch_${identity.id}`, executeAt: new Date(trigger.executeAt).toISOString() } }),
        },
        campaign.channel,
      ),
    workflow: (executionId) => ({
      workflow: audienceExecution,
      input: { executionId, campaignId: campaign.id },
      // Judged at each start: a repeat of a scheduled call keeps its instant.
      startDelayMs: trigger.executeAt ? Date.parse(trigger.executeAt) - Date.now() : 0,
      ...audienceRunDescription(campaign, trigger, requestId, executionId),
    }),
    answer: async (executionId, replayed): Promise<AcceptedAudienceExecution> => {
      const record = await runs.scheduleOf(executionId);
      if (record) return { kind: 'scheduled', scheduleId: record.scheduleId, executeAt: record.executeAt, status: audienceScheduleStatus(record), replayed };
      return { kind: 'started', executionId, requestId, campaignId: campaign.id, replayed };
    },
  });
}

export async function getAudienceSchedule(deps: ServiceDependencies, scheduleId: string): Promise<AudienceScheduleView> {
  const record = await new AudienceRunRepository(deps.db).schedule(scheduleId);
  if (!record) throw notFound(`Schedule ${scheduleId}`);
  return scheduleView(record);
}

/**
 * Cancels a scheduled run before it fires: recorded first (the run's own start checks it, so
 * whichever comes first wins), then its delayed workflow is terminated. A run that has started
 * answers 409; cancelling twice answers the cancelled schedule.
 */
export async function cancelAudienceSchedule(deps: ServiceDependencies, scheduleId: string): Promise<AudienceScheduleView> {
  const runs = new AudienceRunRepository(deps.db);
  const record = await runs.schedule(scheduleId);
  if (!record) throw notFound(`Schedule ${scheduleId}`);
  if (!record.cancelledAt) {
    const cancelled = await runs.cancelSchedule(scheduleId, SCHEDULE_CANCELLED_REASON);
    if (!cancelled) {
      throw new DomainError(
        'conflict',
        'schedule-already-started',
        'The scheduled run has started',
        `Schedule ${scheduleId} fired at ${record.executeAt}; stop the campaign to stop its run.`,
      );
    }
  }
  const execution = await deps.db.selectFrom('executions').select('workflow_id').where('id', '=', record.executionId).executeTakeFirstOrThrow();
  try {
    await withCallDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(execution.workflow_id).terminate('schedule cancelled'));
  } catch (error) {
    // Already gone (or never started): the run refuses itself anyway.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  return scheduleView((await runs.schedule(scheduleId))!);
}
