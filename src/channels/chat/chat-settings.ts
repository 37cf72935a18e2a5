// The chat channel's settings: its variables (zod) and its part of HeraldConfig. It lives with the channel;
// src/config/env.ts composes it with the other concerns.

import { z } from 'zod';
import type { ProviderVariables } from '../../config/providers';

/**
 * The chat channel's default is the outbox: a chat campaign names a channel configuration (Slack,
 * Microsoft Teams, Discord), whose credentials come through HERALD_SENDER_ENV. Only Slack's Web
 * API root is a setting (webhooks are whole URLs, the configurations' secrets).
 */
export const chatVariables = z.object({
  SLACK_BASE_URL: z.url({ error: 'SLACK_BASE_URL must be a URL such as https://slack.com/api/' }).optional(),
});

export type ChatVariables = z.infer<typeof chatVariables>;

export interface ChatConfig {
  chat: {
    /** Slack's Web API root (https://slack.com/api/); tests point it at a fake on loopback. */
    slackBaseUrl?: string;
    providerTimeoutMs: number;
  };
}

export function chatConfig(e: ChatVariables & ProviderVariables): ChatConfig {
  return { chat: { ...(e.SLACK_BASE_URL && { slackBaseUrl: e.SLACK_BASE_URL }), providerTimeoutMs: e.PROVIDER_TIMEOUT_MS } };
}
