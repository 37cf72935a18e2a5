import type { CampaignType, Channel, ChannelContent, EmailContent } from './campaign';
import type { RenderedEmail } from './rendered-email';
import type { ContentVariant } from './locale';
import type { PushTarget } from './push';
import type { Recipient } from './recipient';

/** One problem that blocks a campaign's activation, under the field it concerns. */
export interface ReviewIssue {
  field: string;
  message: string;
}

/**
 * A recipient's address on a channel, or why there is none: the exclusion reason recorded on the
 * delivery (`no-email-address`, `no-phone-number`, `no-push-token`…), with the raw value when one
 * was found but cannot be sent to (`invalid-phone-number`).
 */
export type AddressResolution = { address: string } | { reason: string; address?: string };

/** What a channel's address is resolved from: the stored (or simulated) profile, and its push devices when they were loaded. */
export interface AddressSource {
  attributes: Record<string, unknown>;
  pushTokens?: PushTarget[];
}

/** The engagement tracking a channel can carry: tracked links always, an open pixel unless `noOpens` says why not. */
export interface ChannelTracking {
  /** Where the tracked links are: the HTML (with the pixel) when absent, the plain text for `text`. */
  part?: 'text';
  /** Why opens cannot be tracked on this channel, as activation reports it; absent: opens are tracked. */
  noOpens?: string;
}

/**
 * How a channel's content renders when its shape is its own: the variant's templates as the
 * renderer takes them (subject and text render as text, html escaped), then the rendered parts as
 * the message is stored (subject, html, text; what the channel's dispatch reads back).
 */
export interface ContentRendering {
  templates(variant: ChannelContent): EmailContent;
  stored(variant: ChannelContent, rendered: RenderedEmail): RenderedEmail;
}

/**
 * The pure rules of one channel: what the domain needs to know of it, and nothing about how it is
 * sent. Each channel implements them in `src/channels/<channel>/<channel>-rules.ts` and is listed
 * in `src/channels/registry.ts`; domain functions take them as a parameter, so the domain never
 * imports a channel.
 */
export interface ChannelRules {
  readonly name: Channel;
  /** Whether preparation loads the profile's push devices (the address is one of them). */
  readonly needsPushTokens: boolean;
  /** Attributes the recipient's channelData gives a profile created for it, besides the email address every channel seeds. */
  seedAttributes?(recipient: Recipient): Record<string, unknown>;
  /** The recipient's address: its channelData first, then the profile; else the exclusion reason. */
  resolveAddress(recipient: Recipient, source: AddressSource): AddressResolution;
  /**
   * For a channel whose content is `{title, body, …}` like push's: what a variant keeps besides
   * title and body, stored as JSON in the rendered message's `html`. Absent: push's data and
   * deepLink. Content shapes alike (in-app's and push's), so preparation asks the channel.
   */
  titledExtras?(variant: ChannelContent): Record<string, unknown>;
  /** For a channel whose content has none of email's, SMS's or push's shapes (chat's): how a variant renders. Absent: by its shape. */
  readonly rendering?: ContentRendering;
  /** What activation requires of each language variant of the content; `campaign`, when given, is what the variants are sent as (WhatsApp's marketing needs a template). */
  reviewContent(variants: ContentVariant<ChannelContent>[], campaign?: { type: CampaignType }): ReviewIssue[];
  /** The engagement tracking this channel supports; absent: none. */
  readonly tracking?: ChannelTracking;
  /**
   * A trimmed, non-empty address as the suppression list stores and compares it
   * (`normaliseAddress` in src/domain/provider-feedback.ts); undefined: not an address of this channel.
   */
  normaliseFeedbackAddress(trimmed: string): string | undefined;
  /** What an address of this channel is, as a refused one is told (`must be an email address`). */
  readonly addressKind: string;
  /** Whether its marketing messages carry the one-click unsubscribe link (src/domain/unsubscribe.ts). */
  readonly carriesUnsubscribeLink: boolean;
}
