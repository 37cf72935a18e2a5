import type { Campaign } from './campaign';
import type { ChannelRules, ReviewIssue } from './channel-rules';
import { canonicalLocale, contentVariants } from './locale';
import { templateSyntaxError } from './template-renderer';
import { templateSafetyProblem } from './template-safety.mjs';

export type { ReviewIssue } from './channel-rules';

/** The checks a campaign must pass before activation, its content by its channel's rules; every failing check is reported at once. */
export function reviewCampaign(campaign: Campaign, nowMs: number, rules: ChannelRules): ReviewIssue[] {
  const issues: ReviewIssue[] = [];
  const { content, schedule } = campaign;

  // Every language variant is checked alike, each reported under its own path
  // (content.subject for flat content, content.translations.fr.subject for a translation).
  const variants = contentVariants(content);
  issues.push(...rules.reviewContent(variants));
  for (const { locale, path } of variants.slice(1)) {
    if (canonicalLocale(locale) !== locale) issues.push({ field: path, message: `${locale} is not a canonical BCP 47 language tag` });
  }

  for (const { path, content: variant } of variants) {
    for (const field of ['subject', 'html', 'text', 'body', 'title'] as const) {
      const source = (variant as Partial<Record<typeof field, string>>)[field];
      if (source === undefined) continue;
      const error = templateSyntaxError(source);
      if (error) issues.push({ field: `${path}.${field}`, message: `template does not parse: ${error}` });
      // Drafts saved before templates were checked on save are checked here too.
      const problem = error ? undefined : templateSafetyProblem(source);
      if (problem) issues.push({ field: `${path}.${field}`, message: problem });
    }
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
