/**
 * Audience executions: one call for a whole audience (AJO's marketing API-triggered campaigns).
 * Pure rules shared by the API, the activities and the workflow (which is why nothing here does IO).
 */

/** AJO's throttle bounds, in messages per second. */
export const MIN_THROTTLE_PER_SECOND = 1;
export const MAX_THROTTLE_PER_SECOND = 2000;

/** Recipients one batch activity handles when the run is not throttled. */
export const UNTHROTTLED_BATCH_SIZE = 1000;

/** Resend's batch endpoint takes at most this many emails per call. */
export const EMAIL_BATCH_SIZE = 100;

/** Why an audience member was not sent to, beyond the unitary path's reasons. */
export const AUDIENCE_EXCLUSIONS = {
  windowExpired: 'window-expired',
  campaignStopped: 'campaign-stopped',
  campaignEnded: 'campaign-ended',
} as const;

export type AudienceStopReason = (typeof AUDIENCE_EXCLUSIONS)[keyof typeof AUDIENCE_EXCLUSIONS];

/** The reason a scheduled run that was cancelled before it fired is closed with. */
export const SCHEDULE_CANCELLED_REASON = 'schedule-cancelled';

/**
 * How many recipients one batch covers: about one second's worth at the throttle, so pacing
 * between batches keeps the rate without long bursts; at most UNTHROTTLED_BATCH_SIZE.
 */
export function audienceBatchSize(throttlePerSecond: number | undefined): number {
  if (throttlePerSecond === undefined) return UNTHROTTLED_BATCH_SIZE;
  return Math.max(1, Math.min(UNTHROTTLED_BATCH_SIZE, Math.floor(throttlePerSecond)));
}

/**
 * When the next batch may start, so that the messages a batch sent never exceed the throttle:
 * `sent` messages at `perSecond` take sent/perSecond seconds from the batch's start. Excluded
 * recipients cost nothing. Paced from each batch's own start, so a pause (a worker restart)
 * never turns into a catch-up burst.
 */
export function nextBatchNotBefore(batchStartedMs: number, sent: number, throttlePerSecond: number | undefined): number {
  if (throttlePerSecond === undefined || sent === 0) return batchStartedMs;
  return batchStartedMs + Math.ceil((sent * 1000) / throttlePerSecond);
}

/** Where a scheduled run stands, as the schedules endpoint reports it. */
export type AudienceScheduleStatus = 'scheduled' | 'started' | 'cancelled';

export function audienceScheduleStatus(run: { runStartedAt?: string; cancelledAt?: string }): AudienceScheduleStatus {
  if (run.cancelledAt) return 'cancelled';
  return run.runStartedAt ? 'started' : 'scheduled';
}
