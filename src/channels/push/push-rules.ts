import { isPushContent } from '../../domain/campaign';
import type { ChannelRules, ReviewIssue } from '../../domain/channel-rules';
import { deepLinkProblem, pushAddress, type PushTarget } from '../../domain/push';
import type { Recipient } from '../../domain/recipient';

/** Push: one device as the address; a title and a body, string data, a safe deep link; no engagement tracking. */
export const pushRules: ChannelRules = {
  name: 'push',
  needsPushTokens: true,
  addressKind: 'a push token',
  carriesUnsubscribeLink: false,
  normaliseFeedbackAddress: (trimmed) => trimmed,
  resolveAddress(recipient, { pushTokens }) {
    const target = pushTarget(recipient, pushTokens);
    return target ? { address: pushAddress(target) } : { reason: 'no-push-token' };
  },
  reviewContent(variants) {
    const issues: ReviewIssue[] = [];
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
    return issues;
  },
};

/**
 * A push recipient's device: `channelData.pushInfo` (normalised at the API), else the profile's
 * tokens, the most recently registered first (the repository answers them in that order).
 * One device per recipient and message.
 */
function pushTarget(recipient: Recipient, stored: PushTarget[] | undefined): PushTarget | undefined {
  const given = recipient.channelData?.pushInfo;
  if (given) return { appID: given.appID, platform: given.platform, token: given.token };
  return stored?.[0];
}
