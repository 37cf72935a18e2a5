import type { Campaign } from './campaign';

export { THROUGHPUTS, type Throughput } from './campaign';
import type { ReviewIssue } from './channel-rules';
import { contentTemplates, templateVariables } from './template-variables';

/**
 * High-throughput campaigns (issue 23, ADR 0010): triggers accepted into a durable queue and
 * drained in batches by long-lived dispatcher workflows, instead of one workflow per trigger.
 */
/** The channels a high-throughput campaign may use: the ones a call's channelData (or userId) addresses. */
export const HIGH_THROUGHPUT_CHANNELS = ['email', 'sms', 'push'] as const;

/**
 * How many dispatcher workflows drain the queue unless HERALD_HIGH_THROUGHPUT_PARTITIONS says
 * otherwise (ADR 0010). A trigger's partition is fixed at accept, by its requestId, under the
 * API's count; a count changed later strands nothing: a partition's rows keep their dispatcher
 * until they are sent, and a dispatcher past the count then ends.
 */
export const DEFAULT_HIGH_THROUGHPUT_PARTITIONS = 4;
/** The most the setting allows: each partition is a long-lived workflow with its own idle timer. */
export const MAX_HIGH_THROUGHPUT_PARTITIONS = 64;

/** Whether a campaign takes the high-throughput path. Campaigns and versions from before migration 0031 have none: standard. */
export function isHighThroughput(campaign: Pick<Campaign, 'throughput'>): boolean {
  return campaign.throughput === 'high';
}

/** The partition a trigger is queued in, of `partitions`: stable for a requestId, so a repeat lands where the first call did. */
export function partitionOf(requestId: string, partitions: number): number {
  // FNV-1a over UTF-16 code units: pure, fast, and well spread for ids that share a prefix.
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    hash ^= requestId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/**
 * What activation requires of a high-throughput campaign, every problem at once: it is
 * transactional; it reads nothing of a profile (profiles are neither read nor created, so each
 * `profile.*` variable is listed where it is read); it has no steps, capping or quiet hours; and
 * its channel is email, SMS or push. A standard campaign passes untouched.
 */
export function reviewHighThroughput(campaign: Campaign): ReviewIssue[] {
  if (!isHighThroughput(campaign)) return [];
  const issues: ReviewIssue[] = [];
  if (campaign.type !== 'transactional') {
    issues.push({ field: 'type', message: 'a high-throughput campaign must be transactional' });
  }
  if (!(HIGH_THROUGHPUT_CHANNELS as readonly string[]).includes(campaign.channel)) {
    issues.push({ field: 'channel', message: `a high-throughput campaign sends by email, SMS or push, not ${campaign.channel}` });
  }
  if (campaign.steps && campaign.steps.length > 0) {
    issues.push({ field: 'steps', message: 'a high-throughput campaign has no steps: each trigger is one send' });
  }
  if (campaign.capping) issues.push({ field: 'capping', message: 'a high-throughput campaign is not capped' });
  if (campaign.quietHours) issues.push({ field: 'quietHours', message: 'a high-throughput campaign has no quiet hours' });
  for (const { field, source } of contentTemplates(campaign.content)) {
    for (const variable of templateVariables(source).profile) {
      issues.push({ field, message: `reads ${variable}: a high-throughput campaign renders from the call's context only (no profile is read)` });
    }
  }
  return issues;
}
