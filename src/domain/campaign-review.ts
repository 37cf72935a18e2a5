import { isPushContent, isSmsContent, type Campaign } from './campaign';
import { deepLinkProblem } from './push';
import { canonicalLocale, contentVariants } from './locale';
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

  // Every language variant is checked alike, each reported under its own path
  // (content.subject for flat content, content.translations.fr.subject for a translation).
  const variants = contentVariants(content);
  if (campaign.channel === 'email') {
    for (const { path, content: variant } of variants) {
      if (isSmsContent(variant)) {
        issues.push({ field: `${path}.html`, message: 'an email campaign needs a subject and an HTML body, not an SMS body' });
        continue;
      }
      if (!variant.subject || variant.subject.trim() === '') issues.push({ field: `${path}.subject`, message: 'an email campaign needs a subject' });
      if (!variant.html || variant.html.trim() === '') issues.push({ field: `${path}.html`, message: 'an email campaign needs an HTML body' });
    }
  } else if (campaign.channel === 'sms') {
    for (const { path, content: variant } of variants) {
      if (!isSmsContent(variant) || typeof variant.body !== 'string' || variant.body.trim() === '') issues.push({ field: `${path}.body`, message: 'an SMS campaign needs a body' });
    }
  } else if (campaign.channel === 'push') {
    for (const { path, content: variant } of variants) {
      if (!isPushContent(variant)) {
        issues.push({ field: `${path}.title`, message: 'a push campaign needs a title and a body' });
        continue;
      }
      if (typeof variant.title !== 'string' || variant.title.trim() === '') issues.push({ field: `${path}.title`, message: 'a push campaign needs a title' });
      if (typeof variant.body !== 'string' || variant.body.trim() === '') issues.push({ field: `${path}.body`, message: 'a push campaign needs a body' });
      for (const [key, value] of Object.entries((variant.data ?? {}) as Record<string, unknown>)) {
        if (typeof value !== 'string') issues.push({ field: `${path}.data.${key}`, message: 'push data values must be strings' });
      }
      if (variant.deepLink !== undefined) {
        const problem = deepLinkProblem(variant.deepLink);
        if (problem) issues.push({ field: `${path}.deepLink`, message: problem });
      }
    }
  } else {
    issues.push({ field: 'channel', message: `the ${campaign.channel} channel is not available yet` });
  }
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
