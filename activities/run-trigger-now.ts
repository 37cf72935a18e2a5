import type { PositionOutcome } from '../src/domain/recipient';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { ClosedCounts } from '../src/repositories/executions';
import type { CampaignGate } from './campaign-activities';
import type { CloseExecutionInput } from './execution-activities';
import type { DeferredPositions, PrepareExecutionInput, PreparedExecution } from './prepare-execution';
import type { SendPreparedNowInput, SendPreparedNowResult } from './send-message';

export interface RunTriggerNowInput {
  executionId: string;
  campaignId: string;
  /** Workflow time: the campaign's window is judged by it, as the workflow itself would. */
  nowMs: number;
}

/**
 * `refused`: the campaign did not take the trigger; the execution is closed with the reason.
 * `closed`: every recipient was prepared and sent or refused, and the execution is closed.
 * `unfinished`: some messages still have to be sent the durable way (`retry` now, `deferred` once
 * their quiet hours end), then the execution closed.
 */
export type RunTriggerNowResult =
  | { kind: 'refused'; refusal: string }
  | { kind: 'closed'; counts: ClosedCounts }
  | { kind: 'unfinished'; outcomes: PositionOutcome[]; retry: number[]; retryAfterMs?: number; deferred?: DeferredPositions[] };

/** The steps this one is made of, each an activity of its own on the older paths. */
export interface TriggerSteps {
  loadCampaignGate(campaignId: string): Promise<CampaignGate>;
  prepareExecution(input: PrepareExecutionInput): Promise<PreparedExecution>;
  sendPreparedNow(input: SendPreparedNowInput): Promise<SendPreparedNowResult>;
  closeExecution(input: CloseExecutionInput): Promise<ClosedCounts>;
}

export function runTriggerNowActivities(steps: TriggerSteps) {
  return {
    /**
     * A whole trigger in one local activity: the campaign's window, preparation, one quick attempt
     * at every send, and the close. On the happy path the workflow is then one workflow task with
     * one marker. Safe to retry as a whole: preparation only rewrites open deliveries, a message
     * recorded as sent is not sent again (and the provider deduplicates on its key), and closing
     * twice counts the same outcomes. A provider that is unavailable does not fail it: those
     * messages come back as `unfinished`, for the workflow's durable sends.
     */
    async runTriggerNow({ executionId, campaignId, nowMs }: RunTriggerNowInput): Promise<RunTriggerNowResult> {
      const gate = await steps.loadCampaignGate(campaignId);
      const refusal = triggerRefusal(gate.status, gate.schedule, nowMs);
      if (refusal) {
        await steps.closeExecution({ executionId, outcomes: [], failureReason: refusal });
        return { kind: 'refused', refusal };
      }
      const { ready, deferred = [] } = await steps.prepareExecution({ executionId, nowMs });
      const attempt: SendPreparedNowResult =
        ready.length > 0 ? await steps.sendPreparedNow({ executionId, positions: ready }) : { sent: [], rejected: [], retry: [] };
      const outcomes: PositionOutcome[] = [
        ...attempt.sent.map((position): PositionOutcome => ({ position, status: 'sent' })),
        ...attempt.rejected.map((position): PositionOutcome => ({ position, status: 'failed', reason: 'provider-rejected' })),
      ];
      if (attempt.retry.length > 0 || deferred.length > 0) {
        return {
          kind: 'unfinished',
          outcomes,
          retry: attempt.retry,
          ...(attempt.retryAfterMs !== undefined && { retryAfterMs: attempt.retryAfterMs }),
          ...(deferred.length > 0 && { deferred }),
        };
      }
      return { kind: 'closed', counts: await steps.closeExecution({ executionId, outcomes }) };
    },
  };
}
