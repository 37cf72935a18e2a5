import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Campaign } from '../src/domain/campaign';
import { type CampaignStep, durationMs, MIN_WAIT_MS, type PlannedStep, sendStepPosition, type StepCondition, stepPlan } from '../src/domain/campaign-steps';
import { eventMatchValue } from '../src/domain/event-match';
import { evaluateStepConditions } from '../src/domain/step-condition';
import { isErasedRecipient } from '../src/domain/recipient';

/** Why an erased person's run stops at its next step. */
const ERASED = 'erased';
import { TemplateError } from '../src/domain/template-renderer';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import type { CampaignRepository } from '../src/repositories/campaigns';
import type { DeliveryRepository } from '../src/repositories/deliveries';
import type { DigestJoin, DigestRepository } from '../src/repositories/digests';
import type { EventWaitRepository } from '../src/repositories/event-waits';
import type { ExecutionStepRepository, StepStatusChange } from '../src/repositories/execution-steps';
import type { ExecutionRepository } from '../src/repositories/executions';
import type { ProfileRepository } from '../src/repositories/profiles';
import type { PreparedRecipients, RecipientsToPrepare } from './prepare-execution';

export interface StepRunInput {
  executionId: string;
  campaignId: string;
  /** Workflow time: the campaign's window, digests and quiet hours are judged by it. */
  nowMs: number;
}

/**
 * `refused`: the campaign did not take the trigger (the execution is closed with the reason).
 * `run`: the steps to run, content-free, and the recipients' positions.
 */
export type StepRunStart = { kind: 'refused'; refusal: string } | { kind: 'run'; plan: PlannedStep[]; positions: number[] };

export interface RecipientStepInput {
  executionId: string;
  stepId: string;
  /** The recipient's position in the trigger call. */
  position: number;
}

/** A send step's message for one recipient: sent now, deferred by quiet hours, or already decided (excluded, failed). */
export type PreparedStepSend =
  | { kind: 'ready'; position: number }
  | { kind: 'deferred'; position: number; untilMs: number }
  | { kind: 'decided'; position: number };

export interface CampaignStepDependencies {
  campaigns: CampaignRepository;
  executions: ExecutionRepository;
  deliveries: DeliveryRepository;
  profiles: ProfileRepository;
  digests: DigestRepository;
  eventWaits: EventWaitRepository;
  executionSteps: ExecutionStepRepository;
  renderer: TemplateRenderer;
  /** The preparation of trigger messages (activities/prepare-execution.ts), for a send step's content. */
  prepare: (input: RecipientsToPrepare) => Promise<PreparedRecipients>;
}

/**
 * The activities of a campaign's steps (workflows/campaign-steps-execution.ts). Each reads what it
 * needs from Herald's database by execution, step and position, and answers with ids, positions,
 * times and booleans only: content, contexts, keys and match values never enter history. All are
 * safe to retry: they write the same rows again.
 */
export function campaignStepActivities(deps: CampaignStepDependencies) {
  const { campaigns, executions, deliveries, profiles, digests, eventWaits, executionSteps, renderer, prepare } = deps;

  /** The campaign at the version the execution was accepted at, with the step named. */
  async function campaignOf(executionId: string): Promise<{ campaign: Campaign; steps: CampaignStep[] }> {
    const version = await executions.campaignVersionOf(executionId);
    if (!version) throw ApplicationFailure.nonRetryable(`Execution ${executionId} does not exist`, 'ExecutionNotFound');
    const campaign = await campaigns.getAtVersion(version.campaignId, version.campaignVersion);
    if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${version.campaignId} does not exist`, 'CampaignNotFound');
    return { campaign, steps: campaign.steps ?? [] };
  }

  function stepOf<T extends CampaignStep['type']>(steps: CampaignStep[], stepId: string, type: T): Extract<CampaignStep, { type: T }> {
    const step = steps.find((s) => s.id === stepId);
    if (!step || step.type !== type) throw ApplicationFailure.nonRetryable(`The campaign has no ${type} step ${stepId}`, 'StepNotFound');
    return step as Extract<CampaignStep, { type: T }>;
  }

  async function recipientOf(executionId: string, position: number) {
    const [recipient] = await executionSteps.recipients(executionId, [position]);
    if (!recipient) throw ApplicationFailure.nonRetryable(`Execution ${executionId} has no recipient ${position}`, 'ExecutionNotFound');
    return recipient;
  }

  return {
    /** Judges the campaign's window by workflow time and hands the workflow its steps, content-free. */
    async beginStepRun({ executionId, campaignId, nowMs }: StepRunInput): Promise<StepRunStart> {
      const live = await campaigns.get(campaignId);
      if (!live) throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not exist`, 'CampaignNotFound');
      const refusal = triggerRefusal(live.status, live.schedule, nowMs);
      if (refusal) {
        await executions.close(executionId, [], refusal);
        return { kind: 'refused', refusal };
      }
      const { campaign, steps } = await campaignOf(executionId);
      const request = await executions.storedRequest(executionId);
      return { kind: 'run', plan: stepPlan(steps, campaign.channel), positions: (request?.recipients ?? []).map((r) => r.position) };
    },

    /** Records where recipients stand in a step, for the execution status. */
    async recordStepStatus(change: StepStatusChange): Promise<void> {
      await executionSteps.record(change);
    },

    /**
     * Joins the digest of this trigger's campaign, recipient and rendered key, or opens one. A
     * trigger that joins is closed as `digested` here, in the same transaction.
     */
    async joinDigest({ executionId, stepId, nowMs }: { executionId: string; stepId: string; nowMs: number }): Promise<DigestJoin> {
      const { campaign, steps } = await campaignOf(executionId);
      const step = stepOf(steps, stepId, 'digest');
      const recipient = await recipientOf(executionId, 0);
      let key = '';
      if (step.key) {
        try {
          const rendered = await renderer.renderEmail({ content: { subject: step.key, html: '' }, profile: {}, context: recipient.context });
          key = rendered.subject;
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          // A key that does not render gathers with the other triggers whose key does not either.
          key = '\u0000unrendered';
        }
      }
      const openKey = createHash('sha256')
        .update(JSON.stringify([campaign.id, step.id, recipient.namespace, recipient.userId, key]))
        .digest('hex');
      const windowMs = durationMs(step.window) ?? MIN_WAIT_MS;
      const joined = await digests.join({ executionId, campaignId: campaign.id, openKey, nowMs, windowMs });
      await executionSteps.record({
        executionId,
        positions: [recipient.position],
        stepId,
        type: 'digest',
        ...(joined.kind === 'opened'
          ? { status: 'waiting' as const, untilMs: joined.closesAtMs }
          : { status: 'done' as const, reason: `digested into ${joined.digestExecutionId}` }),
      });
      return joined;
    },

    /** Ends the digest's window: no trigger joins it any more. Answers how many it gathered. */
    async closeDigest({ executionId, stepId }: { executionId: string; stepId: string }): Promise<{ count: number }> {
      const closed = await digests.close(executionId);
      await executionSteps.record({ executionId, positions: [0], stepId, type: 'digest', status: 'done', reason: `${closed.count} gathered` });
      return closed;
    },

    /** Whether a condition step holds for one recipient; a recipient it stops is recorded as stopped. */
    async checkStepCondition({ executionId, stepId, position }: RecipientStepInput): Promise<{ holds: boolean }> {
      const { campaign, steps } = await campaignOf(executionId);
      const step = stepOf(steps, stepId, 'condition');
      const recipient = await recipientOf(executionId, position);
      if (isErasedRecipient(recipient.userId)) {
        await executionSteps.record({ executionId, positions: [position], stepId, type: 'condition', status: 'stopped', reason: ERASED });
        return { holds: false };
      }
      const profile = await profiles.get(recipient.namespace, recipient.userId);
      // Earlier send steps' messages, by the ordinal each has among the run's sends.
      const sendSteps = stepPlan(steps, campaign.channel).filter((s) => s.type === 'send');
      const positions = sendSteps.map((_, ordinal) => sendStepPosition(position, ordinal));
      const outcomes = await executionSteps.sendOutcomes(executionId, positions);
      const holds = evaluateStepConditions(step.where as StepCondition[], {
        ...(profile && { profile: { attributes: profile.attributes, consents: profile.consents, locale: profile.locale ?? null } }),
        context: recipient.context,
        outcomes: Object.fromEntries(sendSteps.map((s, ordinal) => [s.id, outcomes.get(positions[ordinal]!)])),
      });
      await executionSteps.record({
        executionId,
        positions: [position],
        stepId,
        type: 'condition',
        ...(holds ? { status: 'done' as const } : { status: 'stopped' as const, reason: 'stopped-by-condition' }),
      });
      return { holds };
    },

    /** Opens a recipient's wait for an event, which POST /v1/events finds; the wait itself is the workflow's. */
    async openEventWait({ executionId, stepId, position, untilMs }: RecipientStepInput & { untilMs: number }): Promise<void> {
      const { steps } = await campaignOf(executionId);
      const step = stepOf(steps, stepId, 'waitForEvent');
      const recipient = await recipientOf(executionId, position);
      await executionSteps.record({ executionId, positions: [position], stepId, type: 'waitForEvent', status: 'waiting', untilMs });
      // An erased person's run is reached by no event: it waits out its timeout.
      if (isErasedRecipient(recipient.userId)) return;
      const workflowId = (await executions.workflowIdOf(executionId)) ?? '';
      const matchValue = step.match ? (eventMatchValue(recipient.context, step.match) ?? '\u0000absent') : undefined;
      await eventWaits.open({
        executionId,
        stepId,
        workflowId,
        event: step.event,
        recipients: [{ position, namespace: recipient.namespace, userId: recipient.userId, ...(matchValue !== undefined && { matchValue }) }],
      });
    },

    /** Ends a recipient's wait: the event came, the timeout passed, or the run was cancelled. */
    async closeEventWait({
      executionId,
      stepId,
      position,
      ended,
      stops,
    }: RecipientStepInput & { ended: 'event' | 'timeout' | 'cancelled'; stops: boolean }): Promise<void> {
      await eventWaits.close(executionId, stepId, [position]);
      const reason = ended === 'event' ? 'event-received' : ended === 'timeout' ? 'event-timeout' : 'cancelled';
      const status = ended === 'cancelled' ? 'cancelled' : stops ? 'stopped' : 'done';
      await executionSteps.record({ executionId, positions: [position], stepId, type: 'waitForEvent', status, reason });
    },

    /**
     * Prepares one recipient's message of a send step: its delivery (the recipient's own for the
     * run's first send, a new position for later ones), consent, capping, quiet hours, suppression
     * and the render of the step's content, with `digest` for the steps after a digest.
     */
    async prepareStepSend({
      executionId,
      stepId,
      position,
      sendOrdinal,
      nowMs,
    }: RecipientStepInput & { sendOrdinal: number; nowMs: number }): Promise<PreparedStepSend> {
      const { campaign, steps } = await campaignOf(executionId);
      const step = stepOf(steps, stepId, 'send');
      const channel = step.channel ?? campaign.channel;
      const messagePosition = sendStepPosition(position, sendOrdinal);
      await executionSteps.openSendMessages(executionId, stepId, channel, [{ recipient: position, position: messagePosition }]);
      const request = await executions.storedRequest(executionId);
      const recipient = request?.recipients.find((r) => r.position === position);
      if (!request || !recipient) throw ApplicationFailure.nonRetryable(`Execution ${executionId} has no recipient ${position}`, 'ExecutionNotFound');
      if (isErasedRecipient(recipient.userId)) {
        // Erased while the run waited: nothing more is sent, and no profile is made for the placeholder name.
        await deliveries.recordPreparation(executionId, channel, [
          { position: messagePosition, profileCreated: false, outcome: { status: 'excluded', reason: ERASED } },
        ]);
        await executionSteps.record({ executionId, positions: [position], stepId, type: 'send', status: 'stopped', reason: ERASED });
        return { kind: 'decided', position: messagePosition };
      }
      const digested = steps[0]?.type === 'digest' ? await digests.templateData(executionId) : undefined;
      const { prepared, ready, deferred } = await prepare({
        // The step's channel and content, with the campaign's own rules (type, tracking, capping, quiet hours).
        campaign: { ...campaign, channel, content: step.content ?? campaign.content },
        executionId,
        recipients: [{ ...recipient, position: messagePosition }],
        ...(request.context && { context: request.context }),
        nowMs,
        canDefer: true,
        ...(digested && { digest: digested }),
        contentKey: stepId,
      });
      await deliveries.recordPreparation(executionId, channel, prepared);
      await executionSteps.record({ executionId, positions: [position], stepId, type: 'send', status: 'done' });
      const later = deferred?.[0];
      if (later) return { kind: 'deferred', position: messagePosition, untilMs: later.untilMs };
      return ready.includes(messagePosition) ? { kind: 'ready', position: messagePosition } : { kind: 'decided', position: messagePosition };
    },
  };
}
