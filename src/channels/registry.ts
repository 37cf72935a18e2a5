import { EMAIL_BATCH_SIZE } from '../domain/audience-execution';
import type { Channel } from '../domain/campaign';
import type { ChannelRules } from '../domain/channel-rules';
import type { RenderedEmail } from '../domain/rendered-email';
import type { ChannelBlocks } from './channel-blocks';
import type { ChannelDispatch } from './channel-dispatch';
import { chatDispatch } from './chat/chat-dispatch';
import { chatRules } from './chat/chat-rules';
import { emailDispatch } from './email/email-dispatch';
import { emailRules } from './email/email-rules';
import { inAppBlocks } from './in-app/in-app-block-sender';
import { inAppDispatch } from './in-app/in-app-dispatch';
import { inAppRules } from './in-app/in-app-rules';
import { pushDispatch } from './push/push-dispatch';
import { pushRules } from './push/push-rules';
import { smsSegments, type SmsSegments } from './sms/segments';
import { smsDispatch } from './sms/sms-dispatch';
import { smsRules } from './sms/sms-rules';
import { whatsappDispatch } from './whatsapp/whatsapp-dispatch';
import { whatsappRules } from './whatsapp/whatsapp-rules';

/** An SMS as a preview shows it: the body as sent (tracked links included: they lengthen it) and its segments. */
export interface RenderedSms {
  body: string;
  sms: SmsSegments;
}

/** One channel as the services and activities see it: its pure rules, and how its messages leave. */
export interface ChannelEntry {
  rules: ChannelRules;
  /** How one of its messages leaves (activities/send-message.ts): its address checked, its provider called. */
  dispatch: ChannelDispatch;
  /**
   * How an audience run sends its messages a block at a time (activities/audience-run.ts): email
   * through the provider's batch endpoint, in-app in one insert; absent, each goes by itself
   * through `sendPreparedNow`.
   */
  blocks?: ChannelBlocks;
  /** How a preview shows a rendered message when not as subject, html and text (src/services/campaign-preview.ts). */
  previewForm?(rendered: RenderedEmail): RenderedSms;
}

/** Every channel by name: the one place a channel is listed (CHANNELS in src/domain/campaign.ts names them). */
export const CHANNEL_REGISTRY: Readonly<Record<Channel, ChannelEntry>> = {
  email: { rules: emailRules, dispatch: emailDispatch, blocks: { size: EMAIL_BATCH_SIZE, send: (block, { emailBatch }) => emailBatch(block) } },
  sms: {
    rules: smsRules,
    dispatch: smsDispatch,
    previewForm: ({ text }) => ({ body: text ?? '', sms: smsSegments(text ?? '') }),
  },
  push: { rules: pushRules, dispatch: pushDispatch },
  inApp: { rules: inAppRules, dispatch: inAppDispatch, blocks: inAppBlocks },
  chat: { rules: chatRules, dispatch: chatDispatch },
  whatsapp: { rules: whatsappRules, dispatch: whatsappDispatch },
};

/** A channel name no registry entry answers: a stored row or a call naming a channel this build does not know. */
export class UnknownChannelError extends Error {
  constructor(readonly channel: string) {
    super(`unknown channel ${JSON.stringify(channel)}: the registry (src/channels/registry.ts) has no such channel`);
    this.name = 'UnknownChannelError';
  }
}

/** The registry entry of a channel; an unknown name throws UnknownChannelError. */
export function channelOf(name: string): ChannelEntry {
  if (!Object.hasOwn(CHANNEL_REGISTRY, name)) throw new UnknownChannelError(name);
  return CHANNEL_REGISTRY[name as Channel];
}

/** A channel's rules; an unknown name throws UnknownChannelError. */
export function channelRulesOf(name: string): ChannelRules {
  return channelOf(name).rules;
}
