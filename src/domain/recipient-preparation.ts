import type { ResolvedProfile, ResolveProfileInput } from './profile-resolution';
import type { RenderedEmail, RenderEmailInput } from './rendered-email';
import { isPushContent, isSmsContent, type CampaignSnapshot, type EmailContent } from './campaign';
import type { ChannelRules } from './channel-rules';
import { consentExclusion } from './consent';
import { selectContentVariant } from './locale';
import type { PushExtras } from './push';
import { mergeContext, resolveEmailAddress, type Recipient, type RecipientOutcome } from './recipient';

/** A recipient either already has its outcome (excluded, failed) or is ready to send. */
export type PreparedRecipient =
  | { outcome: RecipientOutcome }
  | { base: Pick<RecipientOutcome, 'userId' | 'profileCreated'>; address: string; rendered: RenderedEmail; locale?: string };

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

/**
 * The preparation of the content paths from before REFERENCES_NOT_CONTENT, kept for replay
 * (workflows/trigger-execution-legacy.ts and activities/prepare-recipients.ts): they sent email
 * only (SMS and push came later) and cannot reach the channel registry from workflow code, so
 * their address is always the email address, as it always was for them.
 */
export function prepareRecipient(
  steps: PreparationSteps,
  executionId: string,
  campaign: CampaignSnapshot,
  recipient: Recipient,
  sharedContext?: Record<string, unknown>,
): Promise<PreparedRecipient> {
  return prepareChannelRecipient(EMAIL_BEFORE_CHANNELS, steps, executionId, campaign, recipient, sharedContext);
}

/** The part of a channel's rules preparation uses. */
export type PreparationRules = Pick<ChannelRules, 'needsPushTokens' | 'seedAttributes' | 'resolveAddress' | 'titledExtras' | 'rendering'>;

/** The address rules of the paths from before REFERENCES_NOT_CONTENT: email, as src/channels/email/email-rules.ts resolves it. */
const EMAIL_BEFORE_CHANNELS: PreparationRules = {
  needsPushTokens: false,
  resolveAddress(recipient, { attributes }) {
    const address = resolveEmailAddress(recipient, attributes);
    return address ? { address } : { reason: 'no-email-address' };
  },
};

/**
 * Resolves the profile, applies consent, finds the address by the campaign's channel rules and
 * renders: everything before the provider call.
 */
export async function prepareChannelRecipient(
  rules: PreparationRules,
  steps: PreparationSteps,
  executionId: string,
  campaign: CampaignSnapshot,
  recipient: Recipient,
  sharedContext?: Record<string, unknown>,
): Promise<PreparedRecipient> {
  const seedAttributes = {
    ...(recipient.channelData?.emailAddress && { email: recipient.channelData.emailAddress }),
    ...rules.seedAttributes?.(recipient),
  };
  const { profile, created } = await steps.resolveProfile({
    namespace: recipient.namespace,
    userId: recipient.userId,
    createMissing: campaign.audience.createMissingProfiles,
    executionId,
    seedAttributes,
    ...(rules.needsPushTokens && { withPushTokens: true as const }),
  });
  const base = { userId: recipient.userId, profileCreated: created };
  if (!profile) return { outcome: { ...base, status: 'failed', reason: 'profile-not-found' } };

  const exclusion = consentExclusion(campaign.type, campaign.channel, profile.consents);
  if (exclusion) return { outcome: { ...base, status: 'excluded', reason: exclusion } };

  const resolution = rules.resolveAddress(recipient, profile);
  if ('reason' in resolution)
    return { outcome: { ...base, ...(resolution.address !== undefined && { address: resolution.address }), status: 'failed', reason: resolution.reason } };
  const { address } = resolution;

  try {
    // The language variant follows the profile's locale (pt-BR → pt → default); flat content is the default alone.
    const variant = selectContentVariant(campaign.content, profile.locale);
    const content = variant.content;
    const variables = { profile: profile.attributes, context: mergeContext(sharedContext, recipient.context) };
    if (rules.rendering) {
      // A content shape of the channel's own (chat's text and blocks): its templates, rendered once, stored as the channel keeps them.
      const rendered = await steps.render({ content: rules.rendering.templates(content), ...variables });
      return { base, address, rendered: rules.rendering.stored(content, rendered), locale: variant.locale };
    }
    if (isPushContent(content)) {
      // Title and body render as text (no HTML escaping); the rest (push's data and deepLink, or what
      // the channel's rules keep, in-app's actionUrl and data) is sent as given, kept as JSON in `html`.
      const { subject, text } = await steps.render({ content: { subject: content.title, html: '', text: content.body }, ...variables });
      const extras: PushExtras | Record<string, unknown> = rules.titledExtras
        ? rules.titledExtras(content)
        : { ...(content.data && { data: content.data }), ...(content.deepLink && { deepLink: content.deepLink }) };
      return { base, address, rendered: { subject, html: JSON.stringify(extras), text: text ?? '' }, locale: variant.locale };
    }
    if (isSmsContent(content)) {
      // An SMS body renders as the plain-text part (no HTML escaping) and is stored as the message's text.
      // With click tracking, `text` already carries the signed links and `tracked` their original URLs.
      const { text, tracked } = await steps.render({ content: { subject: '', html: '', text: content.body }, ...variables });
      return { base, address, rendered: { subject: '', html: '', text: text ?? '', ...(tracked && { tracked }) }, locale: variant.locale };
    }
    // No other shape took it (chat's went by its rules' rendering): email's.
    const rendered = await steps.render({ content: content as EmailContent, ...variables });
    return { base, address, rendered, locale: variant.locale };
  } catch (error) {
    const message = steps.renderFailure(error);
    if (message === undefined) throw error;
    return { outcome: { ...base, address, status: 'failed', reason: `render-error: ${message}` } };
  }
}
