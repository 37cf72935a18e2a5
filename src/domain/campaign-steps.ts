/**
 * Campaign steps (docs/steps.md): what a trigger does beyond one send. Pure: the types, the limits,
 * the durations and the step plan a workflow runs by.
 *
 * A campaign without `steps` sends one message of its `channel` and `content`, as it always did.
 * With `steps`, each recipient of a trigger goes through them in order: sends, durable waits
 * (delay, digest, waitForEvent) and conditions that stop the run for that recipient.
 */
import { Duration } from 'luxon';
import type { AudienceCondition } from './audience-rule';
import type { CampaignContent, Channel } from './channel-content';

export const STEP_TYPES = ['send', 'delay', 'digest', 'waitForEvent', 'condition'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** Steps in one campaign. */
export const MAX_STEPS = 20;
/** Step ids: letters, digits, `_` and `-`, as a workflow's history and the API's paths name them. */
export const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** The shortest and the longest wait of a delay, a digest window or an event timeout. */
export const MIN_WAIT_MS = 1_000;
export const MAX_WAIT_MS = 90 * 24 * 3_600_000;
/** Contexts a digest keeps for its templates (`digest.events`); `digest.count` counts them all. */
export const MAX_DIGEST_EVENTS = 100;

export interface SendStep {
  id: string;
  type: 'send';
  /** Absent: the campaign's channel. */
  channel?: Channel;
  /** Absent: the campaign's content (required when `channel` differs from the campaign's). */
  content?: CampaignContent;
}

export interface DelayStep {
  id: string;
  type: 'delay';
  /** ISO 8601 duration, 1 second to 90 days. */
  duration: string;
}

export interface DigestStep {
  id: string;
  type: 'digest';
  window: string;
  /** A text template rendered with the trigger's context; triggers with the same rendered key gather. */
  key?: string;
}

export type StepBranch = 'continue' | 'stop';

export interface WaitForEventStep {
  id: string;
  type: 'waitForEvent';
  event: string;
  timeout: string;
  /** A path: the event matches when `data.<match>` equals the trigger's `context.<match>`. */
  match?: string;
  ifEvent: StepBranch;
  ifTimeout: StepBranch;
}

/**
 * An outcome of a send step that a condition may test, the furthest it got: clicked > opened >
 * delivered > sent, and for an in-app message read > seen > sent; or failed, excluded.
 */
export const SEND_OUTCOMES = ['sent', 'delivered', 'opened', 'clicked', 'failed', 'excluded', 'seen', 'read'] as const;
export type SendOutcome = (typeof SEND_OUTCOMES)[number];

export type ContextCondition =
  | { context: string; op: 'eq' | 'neq' | 'contains'; value: string | number | boolean }
  | { context: string; op: 'gt' | 'gte' | 'lt' | 'lte'; value: string | number }
  | { context: string; op: 'in' | 'notIn'; value: (string | number | boolean)[] }
  | { context: string; op: 'exists' | 'notExists' };

export type StepOutcomeCondition = { step: string; op: 'eq' | 'neq'; value: SendOutcome } | { step: string; op: 'in' | 'notIn'; value: SendOutcome[] };

/** The audience rule language (src/domain/audience-rule.ts), plus the trigger's context and earlier send steps' outcomes. */
export type StepCondition =
  | Exclude<AudienceCondition, { and: unknown } | { or: unknown } | { not: unknown }>
  | ContextCondition
  | StepOutcomeCondition
  | { and: StepCondition[] }
  | { or: StepCondition[] }
  | { not: StepCondition };

export interface ConditionStep {
  id: string;
  type: 'condition';
  /** Every condition must hold, as in an audience rule's `where`. */
  where: StepCondition[];
}

export type CampaignStep = SendStep | DelayStep | DigestStep | WaitForEventStep | ConditionStep;

/** Milliseconds of an ISO 8601 duration (months as 30 days, years as 365), or undefined when it is not one. */
export function durationMs(iso: string): number | undefined {
  if (typeof iso !== 'string' || iso.length > 64) return undefined;
  const duration = Duration.fromISO(iso);
  if (!duration.isValid) return undefined;
  const ms = duration.toMillis();
  return Number.isFinite(ms) ? ms : undefined;
}

/** Why a wait is out of range, or undefined when it is fine. */
export function waitIssue(iso: string): string | undefined {
  const ms = durationMs(iso);
  if (ms === undefined) return 'must be an ISO 8601 duration, e.g. PT10M, PT1H or P7D';
  if (ms < MIN_WAIT_MS) return 'must be at least 1 second (PT1S)';
  if (ms > MAX_WAIT_MS) return 'must be at most 90 days (P90D)';
  return undefined;
}

/**
 * A step as the workflow runs it: its id, type and timings, never content, templates, match paths
 * or condition values (history holds ids and counts only; those stay in Herald's database).
 */
export type PlannedStep =
  | { id: string; type: 'send'; channel: Channel }
  | { id: string; type: 'delay'; waitMs: number }
  | { id: string; type: 'digest'; waitMs: number }
  | { id: string; type: 'waitForEvent'; event: string; waitMs: number; ifEvent: StepBranch; ifTimeout: StepBranch }
  | { id: string; type: 'condition' };

/** The plan of valid steps; `channel` is the campaign's, for send steps that name none. */
export function stepPlan(steps: readonly CampaignStep[], channel: Channel): PlannedStep[] {
  return steps.map((step): PlannedStep => {
    switch (step.type) {
      case 'send':
        return { id: step.id, type: 'send', channel: step.channel ?? channel };
      case 'delay':
        return { id: step.id, type: 'delay', waitMs: durationMs(step.duration) ?? MIN_WAIT_MS };
      case 'digest':
        return { id: step.id, type: 'digest', waitMs: durationMs(step.window) ?? MIN_WAIT_MS };
      case 'waitForEvent':
        return {
          id: step.id,
          type: 'waitForEvent',
          event: step.event,
          waitMs: durationMs(step.timeout) ?? MIN_WAIT_MS,
          ifEvent: step.ifEvent,
          ifTimeout: step.ifTimeout,
        };
      default:
        return { id: step.id, type: 'condition' };
    }
  });
}

/** Whether the campaign's steps hold a wait, which audience executions cannot run (409 for now). */
export function hasWaitingSteps(steps: readonly CampaignStep[] | undefined): boolean {
  return (steps ?? []).some((step) => step.type === 'delay' || step.type === 'digest' || step.type === 'waitForEvent');
}

/**
 * The delivery position of send step `sendOrdinal` (0 for a run's first send step) for the
 * recipient at `recipientPosition`. Every delivery is one message: the recipient's own row is the
 * message of its first send step, and each later send step gets a row of its own, so tracking,
 * feedback, reports and erasure, all keyed by (execution, position), work for every step's message.
 */
export const STEP_POSITION_STRIDE = 1000;
export function sendStepPosition(recipientPosition: number, sendOrdinal: number): number {
  return recipientPosition + STEP_POSITION_STRIDE * sendOrdinal;
}
export function recipientPositionOf(position: number): number {
  return position % STEP_POSITION_STRIDE;
}
