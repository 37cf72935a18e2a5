import type { Campaign } from './campaign';
import type { ReviewIssue } from './campaign-review';
import { declaresContextPath } from './context-schema';
import { contentTemplates, templateVariables } from './template-variables';

/**
 * The activation review's non-blocking findings about personalisation: a `context.*` variable a
 * template reads that the campaign's contextSchema does not declare (a typo, or a schema that
 * forgot a field). `profile.*` variables are never reported: profile attributes are free-form.
 * Without a contextSchema there is nothing to compare with, and nothing is reported. Pure.
 */
export function contextReviewWarnings(campaign: Pick<Campaign, 'content' | 'contextSchema'>): ReviewIssue[] {
  const schema = campaign.contextSchema;
  if (!schema) return [];
  const warnings: ReviewIssue[] = [];
  for (const { field, source } of contentTemplates(campaign.content)) {
    for (const name of templateVariables(source).context) {
      if (!declaresContextPath(schema, name.split('.').slice(1))) {
        warnings.push({ field, message: `{{ ${name} }} is not declared in contextSchema: callers are not told to send it, and it renders empty without it` });
      }
    }
  }
  return warnings;
}
