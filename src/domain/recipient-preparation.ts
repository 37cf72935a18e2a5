import type { ResolvedProfile, ResolveProfileInput } from './profile-resolution';
import type { RenderedEmail, RenderEmailInput } from './rendered-email';
import { isPushContent, isSmsContent, type CampaignSnapshot } from './campaign';
import { consentExclusion } from './consent';
import { selectContentVariant } from './locale';
import { resolvePhoneNumber } from './phone-number';
import { pushAddress, type PushExtras, type PushTarget } from './push';
import { mergeContext, resolveEmailAddress, type Recipient, type RecipientOutcome } from './recipient';

/** A recipient either already has its outcome (excluded, failed) or is ready to send. */
export type PreparedRecipient = { outcome: RecipientOutcome } | { base: Pick<RecipientOutcome, 'userId' | 'profileCreated'>; address: string; rendered: RenderedEmail; locale?: string };

/**
 * The IO the preparation needs. The trigger workflow supplies local activities (its pre-batching
 * path, kept for replay); the batched `prepareRecipients` activity supplies the repository and
 * the renderer directly.
 */
export interface PreparationSteps {
  resolveProfile(input: ResolveProfileInput): Promise<ResolvedProfile>;
  render(input: RenderEmailInput): Promise<RenderedEmail>;
  /** The message of a render failure that belongs to the recipient; undefined rethrows (and retries). */
  renderFailure(error: unknown): string | undefined;
}

/** Resolves the profile, applies consent, finds the address and renders: everything before the provider call. */
export async function prepareRecipient(steps: PreparationSteps, executionId: string, campaign: CampaignSnapshot, recipient: Recipient, sharedContext?: Record<string, unknown>): Promise<PreparedRecipient> {
  const sms = campaign.channel === 'sms';
  const push = campaign.channel === 'push';
  const seedAttributes = {
    ...(recipient.channelData?.emailAddress && { email: recipient.channelData.emailAddress }),
    ...(sms && recipient.channelData?.mobilePhoneNumber && { phone: recipient.channelData.mobilePhoneNumber }),
  };
  const { profile, created } = await steps.resolveProfile({
    namespace: recipient.namespace,
    userId: recipient.userId,
    createMissing: campaign.audience.createMissingProfiles,
    executionId,
    seedAttributes,
    ...(push && { withPushTokens: true as const }),
  });
  const base = { userId: recipient.userId, profileCreated: created };
  if (!profile) return { outcome: { ...base, status: 'failed', reason: 'profile-not-found' } };

  const exclusion = consentExclusion(campaign.type, campaign.channel, profile.consents);
  if (exclusion) return { outcome: { ...base, status: 'excluded', reason: exclusion } };

  let address: string | undefined;
  if (push) {
    // Push: channelData.pushInfo, else the profile's most recently registered token.
    const target = pushTarget(recipient, profile.pushTokens);
    if (!target) return { outcome: { ...base, status: 'failed', reason: 'no-push-token' } };
    address = pushAddress(target);
  } else if (sms) {
    // SMS: channelData.mobilePhoneNumber, else the profile's phone, else a userId in the phone namespace; in E.164.
    const phone = resolvePhoneNumber(recipient, profile.attributes);
    if (!phone.found) return { outcome: { ...base, status: 'failed', reason: 'no-phone-number' } };
    if (phone.e164 === undefined) return { outcome: { ...base, address: phone.raw, status: 'failed', reason: 'invalid-phone-number' } };
    address = phone.e164;
  } else {
    address = resolveEmailAddress(recipient, profile.attributes);
  }
  if (!address) return { outcome: { ...base, status: 'failed', reason: 'no-email-address' } };

  try {
    // The language variant follows the profile's locale (pt-BR → pt → default); flat content is the default alone.
    const variant = selectContentVariant(campaign.content, profile.locale);
    const content = variant.content;
    const variables = { profile: profile.attributes, context: mergeContext(sharedContext, recipient.context) };
    if (isPushContent(content)) {
      // Title and body render as text (no HTML escaping); data and deepLink are sent as given, kept as JSON in `html`.
      const { subject, text } = await steps.render({ content: { subject: content.title, html: '', text: content.body }, ...variables });
      const extras: PushExtras = { ...(content.data && { data: content.data }), ...(content.deepLink && { deepLink: content.deepLink }) };
      return { base, address, rendered: { subject, html: JSON.stringify(extras), text: text ?? '' }, locale: variant.locale };
    }
    if (isSmsContent(content)) {
      // An SMS body renders as the plain-text part (no HTML escaping) and is stored as the message's text.
      // With click tracking, `text` already carries the signed links and `tracked` their original URLs.
      const { text, tracked } = await steps.render({ content: { subject: '', html: '', text: content.body }, ...variables });
      return { base, address, rendered: { subject: '', html: '', text: text ?? '', ...(tracked && { tracked }) }, locale: variant.locale };
    }
    const rendered = await steps.render({ content, ...variables });
    return { base, address, rendered, locale: variant.locale };
  } catch (error) {
    const message = steps.renderFailure(error);
    if (message === undefined) throw error;
    return { outcome: { ...base, address, status: 'failed', reason: `render-error: ${message}` } };
  }
}

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
