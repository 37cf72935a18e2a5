import { isSmsContent } from '../../domain/campaign';
import type { ChannelRules, ReviewIssue } from '../../domain/channel-rules';
import { resolvePhoneNumber, toE164 } from '../../domain/phone-number';

/** SMS: a number in E.164; a body; clicks tracked in the text, never opens. */
export const smsRules: ChannelRules = {
  name: 'sms',
  needsPushTokens: false,
  addressKind: 'an international phone number (+44 7911 123456)',
  carriesUnsubscribeLink: false,
  normaliseFeedbackAddress: toE164,
  seedAttributes: (recipient) => ({ ...(recipient.channelData?.mobilePhoneNumber && { phone: recipient.channelData.mobilePhoneNumber }) }),
  // channelData.mobilePhoneNumber, else the profile's phone, else a userId in the phone namespace; in E.164.
  resolveAddress(recipient, { attributes }) {
    const phone = resolvePhoneNumber(recipient, attributes);
    if (!phone.found) return { reason: 'no-phone-number' };
    return phone.e164 === undefined ? { address: phone.raw, reason: 'invalid-phone-number' } : { address: phone.e164 };
  },
  reviewContent(variants) {
    const issues: ReviewIssue[] = [];
    for (const { path, content: variant } of variants) {
      if (!isSmsContent(variant) || typeof variant.body !== 'string' || variant.body.trim() === '')
        issues.push({ field: `${path}.body`, message: 'an SMS campaign needs a body' });
    }
    return issues;
  },
  tracking: {
    part: 'text',
    noOpens: 'an SMS has no open tracking (there is no pixel to load): set `tracking` to {"clicks": true} to track the links of the body',
  },
};
