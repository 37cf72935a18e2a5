import type { Campaign } from './campaign';
import { templateSyntaxError } from './template-renderer';
import { templateSafetyProblem } from './template-safety.mjs';

export interface ReviewIssue {
  field: string;
  message: string;
}

/** The checks a campaign must pass before activation; every failing check is reported at once. */
export function reviewCampaign(campaign: Campaign, nowMs: number): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  const { content, schedule } = campaign;

  if (campaign.channel === 'email') {
    if (!content.subject || content.subject.trim() === '') issues.push({ field: 'content.subject', message: 'an email campaign needs a subject' });
    if (!content.html || content.html.trim() === '') issues.push({ field: 'content.html', message: 'an email campaign needs an HTML body' });
  } else {
    issues.push({ field: 'channel', message: `the ${campaign.channel} channel is not available yet` });
  }

  for (const field of ['subject', 'html', 'text'] as const) {
    const source = content[field];
    if (source === undefined) continue;
    const error = templateSyntaxError(source);
    if (error) issues.push({ field: `content.${field}`, message: `template does not parse: ${error}` });
    // Drafts saved before templates were checked on save are checked here too.
    const problem = error ? undefined : templateSafetyProblem(source);
    if (problem) issues.push({ field: `content.${field}`, message: problem });
  }

  const startMs = schedule.startAt ? Date.parse(schedule.startAt) : undefined;
  const endMs = schedule.endAt ? Date.parse(schedule.endAt) : undefined;
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    issues.push({ field: 'schedule.endAt', message: 'endAt must be after startAt' });
  }
  if (endMs !== undefined && endMs <= nowMs) {
    issues.push({ field: 'schedule.endAt', message: 'endAt is in the past' });
  }
  return issues;
}
