import { isSmsContent, type EmailContent } from '../../domain/campaign';
import type { ChannelRules, ReviewIssue } from '../../domain/channel-rules';
import { resolveEmailAddress } from '../../domain/recipient';

/** Email: an address from channelData, the profile or the userId; a subject and an HTML body; opens and clicks tracked in the HTML. */
export const emailRules: ChannelRules = {
  name: 'email',
  needsPushTokens: false,
  resolveAddress(recipient, { attributes }) {
    const address = resolveEmailAddress(recipient, attributes);
    return address ? { address } : { reason: 'no-email-address' };
  },
  reviewContent(variants) {
    const issues: ReviewIssue[] = [];
    for (const { path, content: variant } of variants) {
      if (isSmsContent(variant)) {
        issues.push({ field: `${path}.html`, message: 'an email campaign needs a subject and an HTML body, not an SMS body' });
        continue;
      }
      const { subject, html } = variant as Partial<EmailContent>;
      if (!subject || subject.trim() === '') issues.push({ field: `${path}.subject`, message: 'an email campaign needs a subject' });
      if (!html || html.trim() === '') issues.push({ field: `${path}.html`, message: 'an email campaign needs an HTML body' });
    }
    return issues;
  },
  tracking: {},
  // Lower-cased: the local part is case-sensitive in theory, never in practice, and a complaint must not miss `Ann@x.com` because it was sent to `ann@x.com`.
  addressKind: 'an email address',
  carriesUnsubscribeLink: true,
  normaliseFeedbackAddress: (trimmed) => (trimmed.includes('@') ? trimmed.toLowerCase() : undefined),
};
