import { ApplicationFailure, condition, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { PlannedStep } from '../src/domain/campaign-steps';
import type { PositionOutcome } from '../src/domain/recipient';
import { cancelRunSignal, eventArrivedSignal } from './campaign-steps-signals';
import { sendDurably } from './durable-send';

export interface CampaignStepsExecutionInput {
  executionId: string;
  requestId: string;
  campaignId: string;
}

/** Counts and ids only: a workflow result is history too. */
export type CampaignStepsExecutionResult =
  | { executionId: string; sent: number; failed: number; excluded: number }
  /** Folded into the digest another trigger opened, which carries it on. */
  | { executionId: string; digestExecutionId: string };

/**
 * Step work: each activity reads by (execution, step, position) from Herald's database and answers
 * with ids, positions and times. Regular activities, not local ones: recipients run their steps
 * concurrently and take different paths (an event for one, a timeout for another), which local
 * activities cannot do deterministically (workflows/trigger-execution.ts).
 */
const stepWork = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['ExecutionNotFound', 'CampaignNotFound', 'StepNotFound'],
  },
});

/** Why a waitForEvent step that stops a recipient stopped it, by how its wait ended. */
const EVENT_STOP_REASONS = { event: 'stopped-by-event', timeout: 'stopped-by-event-timeout', cancelled: 'cancelled' } as const;

/** Why a recipient's run ended before its steps did; its first message, if never sent, is excluded with it. */
type LaneEnd = { reason?: string; outcomes: PositionOutcome[]; sends: number };

/**
 * One run per trigger of a campaign with steps (src/domain/campaign-steps.ts, docs/steps.md).
 * Every wait is a durable timer in this workflow: a delay, a digest's window, an event's timeout,
 * quiet hours. Events and cancellation arrive as signals. Each recipient of the call goes through
 * the steps on its own; the execution closes when all are done.
 */
export async function campaignStepsExecution({ executionId, campaignId }: CampaignStepsExecutionInput): Promise<CampaignStepsExecutionResult> {
  const arrived = new Map<string, Set<number>>();
  let cancelled = false;
  setHandler(eventArrivedSignal, ({ stepId, positions }) => {
    const reached = arrived.get(stepId) ?? new Set<number>();
    for (const position of positions) reached.add(position);
    arrived.set(stepId, reached);
  });
  setHandler(cancelRunSignal, () => {
    cancelled = true;
  });

  // What each recipient waits for, for the Temporal UI: step ids, positions and times only.
  const waiting = new Map<number, string>();
  const showWaits = () => setCurrentDetails(waiting.size === 0 ? '' : [...waiting].map(([position, what]) => `recipient #${position}: ${what}`).join('\n'));
  const waitFor = async (position: number, what: string, untilMs: number, done: () => boolean = () => false): Promise<boolean> => {
    waiting.set(position, `${what} until ${new Date(untilMs).toISOString()}`);
    showWaits();
    try {
      return await condition(() => cancelled || done(), Math.max(0, untilMs - Date.now()), { summary: what });
    } finally {
      waiting.delete(position);
      showWaits();
    }
  };

  const start = await stepWork.beginStepRun({ executionId, campaignId, nowMs: Date.now() });
  if (start.kind === 'refused') throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not accept triggers now (${start.refusal})`, start.refusal);
  let plan = start.plan;

  const first = plan[0];
  if (first?.type === 'digest') {
    // Judged by when the trigger was accepted (its run's start), not by when its worker got to it.
    const joined = await stepWork.joinDigest({ executionId, stepId: first.id, nowMs: workflowInfo().runStartTime.getTime() });
    if (joined.kind === 'joined') return { executionId, digestExecutionId: joined.digestExecutionId };
    await waitFor(0, `digest "${first.id}" gathering triggers`, joined.closesAtMs);
    await stepWork.closeDigest({ executionId, stepId: first.id });
    plan = plan.slice(1);
  }

  /** One recipient through the steps: its message outcomes, and why it stopped if it did. */
  const runRecipient = async (position: number): Promise<LaneEnd> => {
    let sends = 0;
    const outcomes: PositionOutcome[] = [];
    const cancelledAt = async (step: PlannedStep): Promise<LaneEnd> => {
      await stepWork.recordStepStatus({ executionId, positions: [position], stepId: step.id, type: step.type, status: 'cancelled', reason: 'cancelled' });
      return { reason: 'cancelled', outcomes, sends };
    };
    for (const step of plan) {
      if (cancelled) return cancelledAt(step);
      switch (step.type) {
        case 'delay': {
          const untilMs = Date.now() + step.waitMs;
          await stepWork.recordStepStatus({ executionId, positions: [position], stepId: step.id, type: 'delay', status: 'waiting', untilMs });
          await waitFor(position, `delay "${step.id}"`, untilMs);
          if (cancelled) return cancelledAt(step);
          await stepWork.recordStepStatus({ executionId, positions: [position], stepId: step.id, type: 'delay', status: 'done' });
          break;
        }
        case 'waitForEvent': {
          const untilMs = Date.now() + step.waitMs;
          await stepWork.openEventWait({ executionId, stepId: step.id, position, untilMs });
          await waitFor(position, `event "${step.event}" (step "${step.id}")`, untilMs, () => arrived.get(step.id)?.has(position) ?? false);
          // An event that came wins over a cancellation or a timeout at the same moment.
          const ended = arrived.get(step.id)?.has(position) ? 'event' : cancelled ? 'cancelled' : 'timeout';
          const stops = ended === 'cancelled' || (ended === 'event' ? step.ifEvent : step.ifTimeout) === 'stop';
          await stepWork.closeEventWait({ executionId, stepId: step.id, position, ended, stops });
          if (stops) return { reason: EVENT_STOP_REASONS[ended], outcomes, sends };
          break;
        }
        case 'condition': {
          const { holds } = await stepWork.checkStepCondition({ executionId, stepId: step.id, position });
          if (!holds) return { reason: 'stopped-by-condition', outcomes, sends };
          break;
        }
        case 'send': {
          const prepared = await stepWork.prepareStepSend({ executionId, stepId: step.id, position, sendOrdinal: sends, nowMs: Date.now() });
          sends += 1;
          if (prepared.kind === 'decided') break;
          if (prepared.kind === 'deferred') {
            // Quiet hours: the message waits for their end, and a cancellation meanwhile withdraws it.
            await waitFor(position, `quiet hours before send "${step.id}"`, prepared.untilMs);
            if (cancelled) {
              outcomes.push({ position: prepared.position, status: 'excluded', reason: 'cancelled' });
              return { reason: 'cancelled', outcomes, sends };
            }
          }
          outcomes.push(...(await sendDurably(executionId, [prepared.position])));
          break;
        }
        case 'digest':
          // Validation keeps a digest first; it is run above, before the recipients go their ways.
          break;
      }
    }
    return { outcomes, sends };
  };

  const ends = await Promise.all(start.positions.map(runRecipient));
  const outcomes = ends.flatMap((end, i): PositionOutcome[] => [
    ...end.outcomes,
    // A recipient that stopped before its first send: its own delivery says why.
    ...(end.sends === 0 ? [{ position: start.positions[i]!, status: 'excluded' as const, reason: end.reason ?? 'no-send-step' }] : []),
  ]);
  const counts = await stepWork.closeExecution({ executionId, outcomes });
  return { executionId, ...counts };
}
