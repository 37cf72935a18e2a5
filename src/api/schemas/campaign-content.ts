import { z } from '@hono/zod-openapi';
import type { Channel } from '../../domain/campaign';
import { ChatContentSchema } from '../../channels/chat/chat-content-schema';
import { EmailContentSchema } from '../../channels/email/email-content-schema';
import { InAppContentSchema } from '../../channels/in-app/in-app-content-schema';
import { PushContentSchema } from '../../channels/push/push-content-schema';
import { SmsContentSchema } from '../../channels/sms/sms-content-schema';
import { WhatsAppContentSchema } from '../../channels/whatsapp/whatsapp-content-schema';
import { localizedContent } from './localized-content';

/** Each channel's content, flat or multilingual: what a campaign (or a send step) on that channel carries. */
export const CHANNEL_CONTENT = {
  email: localizedContent(EmailContentSchema, 'Email'),
  sms: localizedContent(SmsContentSchema, 'Sms'),
  push: localizedContent(PushContentSchema, 'Push'),
  inApp: localizedContent(InAppContentSchema, 'InApp'),
  chat: localizedContent(ChatContentSchema, 'Chat'),
  whatsapp: localizedContent(WhatsAppContentSchema, 'WhatsApp'),
} satisfies Record<Channel, z.ZodType>;

/** The content of any channel; which channel it must be is checked by review (or by a send step's own channel). */
export const CampaignContentSchema = z.union([
  CHANNEL_CONTENT.email,
  CHANNEL_CONTENT.sms,
  CHANNEL_CONTENT.push,
  CHANNEL_CONTENT.inApp,
  CHANNEL_CONTENT.chat,
  CHANNEL_CONTENT.whatsapp,
]);
