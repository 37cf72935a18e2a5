import type { Campaign, CampaignContent, Channel } from './campaign';
import type { ChannelRules, ReviewIssue } from './channel-rules';
import { canonicalLocale, contentVariants } from './locale';
import { templateSyntaxError } from './template-renderer';
import { templateSafetyProblem } from './template-safety.mjs';

export type { ReviewIssue } from './channel-rules';

/** The checks a campaign must pass before activation, its content by its channel's rules; every failing check is reported at once. */
export function reviewCampaign(campaign: Campaign, nowMs: number, rules: ChannelRules): ReviewIssue[] {
  const issues: ReviewIssue[] = reviewContent(campaign.content, rules, campaign);
  const { schedule } = campaign;

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

/** The category a campaign carries must exist: each person's preferences for it are read at every send. */
export function reviewCategory(campaign: Pick<Campaign, 'category'>, categoryExists: boolean): ReviewIssue[] {
  if (campaign.category === undefined || categoryExists) return [];
  return [{ field: 'category', message: `there is no category ${campaign.category} (POST /v1/categories makes one)` }];
}

/**
 * The checks a campaign's steps must pass before activation: each send step's own content, by the
 * rules of the step's channel (`rulesOf`, the channel registry's lookup), under `steps.N.content…`;
 * a digest's key template. Send steps without content send the campaign's, which reviewCampaign checks.
 */
export function reviewCampaignSteps(campaign: Campaign, rulesOf: (channel: Channel) => ChannelRules): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  for (const [index, step] of (campaign.steps ?? []).entries()) {
    const at = `steps.${index}`;
    if (step.type === 'send') {
      const channel = step.channel ?? campaign.channel;
      if (step.content !== undefined) {
        issues.push(...reviewContent(step.content, rulesOf(channel), campaign).map((issue) => ({ ...issue, field: `${at}.${issue.field}` })));
      } else if (channel !== campaign.channel) {
        issues.push({ field: `${at}.content`, message: `a send step on ${channel} needs its own content (the campaign's is ${campaign.channel} content)` });
      }
    } else if (step.type === 'digest' && step.key !== undefined) {
      issues.push(...templateIssues(step.key, `${at}.key`));
    }
  }
  return issues;
}

/**
 * Every language variant is checked alike, each reported under its own path (content.subject for
 * flat content, content.translations.fr.subject for a translation).
 */
function reviewContent(content: CampaignContent, rules: ChannelRules, campaign: Pick<Campaign, 'type'>): ReviewIssue[] {
  const variants = contentVariants(content);
  const issues = [...rules.reviewContent(variants, { type: campaign.type })];
  for (const { locale, path } of variants.slice(1)) {
    if (canonicalLocale(locale) !== locale) issues.push({ field: path, message: `${locale} is not a canonical BCP 47 language tag` });
  }
  for (const { path, content: variant } of variants) {
    for (const field of ['subject', 'html', 'text', 'body', 'title'] as const) {
      const source = (variant as Partial<Record<typeof field, string>>)[field];
      if (source !== undefined) issues.push(...templateIssues(source, `${path}.${field}`));
    }
  }
  return issues;
}

function templateIssues(source: string, field: string): ReviewIssue[] {
  const error = templateSyntaxError(source);
  if (error) return [{ field, message: `template does not parse: ${error}` }];
  // Drafts saved before templates were checked on save are checked here too.
  const problem = templateSafetyProblem(source);
  return problem ? [{ field, message: problem }] : [];
}
