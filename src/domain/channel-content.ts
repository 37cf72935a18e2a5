/** The channels a campaign sends on, and the content of each: shared by campaigns and their steps. */
import type { LocalizedContent } from './locale';
import type { PushContent } from './push';

export type { PushContent };

export const CHANNELS = ['email', 'sms', 'push', 'inApp', 'chat', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface EmailContent {
  subject: string;
  html: string;
  text?: string;
}

/**
 * A campaign's content as stored and answered: one variant (the form from before translations,
 * meaning the default alone) or `{default, translations?}`. Stored as given, never rewritten;
 * src/domain/locale.ts reads both forms.
 */
export type CampaignContent = LocalizedContent<ChannelContent>;

/** An SMS variant: one text template (not HTML: nothing is escaped). */
export interface SmsContent {
  body: string;
}

/**
 * An in-app variant: title and body are text templates; `actionUrl` and the `data` object are
 * stored as given. Shaped like push content, so code tells them apart by the campaign's channel.
 */
export interface InAppContent {
  title: string;
  body: string;
  actionUrl?: string;
  data?: Record<string, unknown>;
}

/**
 * A chat variant (Slack, Microsoft Teams, Discord): `text` is a text template and the plain-text
 * fallback; `blocks` is the provider's rich layout as JSON, each of its string values a text template.
 */
export interface ChatContent {
  text: string;
  blocks?: unknown[];
}

/**
 * A WhatsApp variant: a session message (`{body}`, shaped like SMS content) or one of the
 * business's approved templates, by name and language, its parameters text templates.
 */
export type WhatsAppContent = SmsContent | WhatsAppTemplateContent;

/** An approved WhatsApp template: WhatsApp's only way to write to a person outside the 24-hour session. */
export interface WhatsAppTemplateContent {
  template: { name: string; language: string; parameters?: string[] };
}

/** One variant of a campaign's content; which one follows the campaign's channel (the API keeps them apart). */
export type ChannelContent = EmailContent | SmsContent | PushContent | InAppContent | ChatContent | WhatsAppTemplateContent;

export function isSmsContent(content: ChannelContent): content is SmsContent {
  return Object.hasOwn(content, 'body') && !Object.hasOwn(content, 'html') && !Object.hasOwn(content, 'title');
}

/** A push variant has a title (and a body); src/domain/push.ts. */
export function isPushContent(content: ChannelContent): content is PushContent {
  return Object.hasOwn(content, 'title') && !Object.hasOwn(content, 'html');
}
