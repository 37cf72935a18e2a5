// The environment, validated with zod: the only place that reads Herald's configuration. Each
// concern declares its variables and maps them into its part of HeraldConfig in its own file (a
// channel's in its folder, src/channels/<channel>/<channel>-settings.ts); this one puts them
// together, runs the checks that span variables, and builds HeraldConfig.

import { z } from 'zod';
import { type ChatConfig, chatConfig, chatVariables } from '../channels/chat/chat-settings';
import { type EmailConfig, emailConfig, emailVariables } from '../channels/email/email-settings';
import { checkPushVariables, type PushConfig, pushConfig, pushVariables } from '../channels/push/push-settings';
import { type SmsConfig, smsConfig, smsVariables } from '../channels/sms/sms-settings';
import { type WhatsAppConfig, whatsappConfig, whatsappVariables } from '../channels/whatsapp/whatsapp-settings';
import { type AudienceConfig, audienceConfig, audienceVariables } from './audiences';
import { type DatabaseConfig, databaseConfig, databaseVariables } from './database';
import { type HousekeepingConfig, housekeepingConfig, housekeepingVariables } from './housekeeping';
import { type HttpConfig, httpConfig, httpVariables } from './http';
import { type LoggingConfig, loggingConfig, loggingVariables } from './logging';
import { type PayloadEncryptionConfig, payloadEncryptionConfig, payloadEncryptionVariables } from './payload-encryption';
import { type ProfileImportConfig, profileImportConfig, profileImportVariables } from './profile-import';
import { type ProviderEventConfig, providerEventConfig, providerEventVariables } from './provider-events';
import { providerVariables } from './providers';
import { type RenderingConfig, renderingConfig, renderingVariables } from './rendering';
import { type SenderCredentialConfig, senderCredentialConfig, senderCredentialVariables } from './sender-credentials';
import { checkTemporalVariables, type TemporalConfig, temporalConfig, temporalVariables } from './temporal';
import { type TrackingConfig, trackingConfig, trackingVariables } from './tracking';
import { type WebhookConfig, webhookConfig, webhookVariables } from './webhooks';

export { isLoopbackHost } from './http';
export type { PayloadKey } from './payload-encryption';

/**
 * Every variable Herald reads, concern by concern. Bad values are listed in this order; the checks
 * that span variables of a concern run last, and only when every value has the right type.
 */
export const envSchema = z
  .object({
    ...httpVariables.shape,
    ...databaseVariables.shape,
    ...loggingVariables.shape,
    ...temporalVariables.shape,
    ...emailVariables.shape,
    ...providerVariables.shape,
    ...smsVariables.shape,
    ...whatsappVariables.shape,
    ...pushVariables.shape,
    ...chatVariables.shape,
    ...housekeepingVariables.shape,
    ...renderingVariables.shape,
    ...payloadEncryptionVariables.shape,
    ...audienceVariables.shape,
    ...senderCredentialVariables.shape,
    ...trackingVariables.shape,
    ...providerEventVariables.shape,
    ...webhookVariables.shape,
    ...profileImportVariables.shape,
  })
  .superRefine((env, ctx) => {
    checkPushVariables(env, ctx);
    checkTemporalVariables(env, ctx);
  });

/** Herald's configuration; each part is described in the file of its concern. */
export interface HeraldConfig
  extends HttpConfig,
    DatabaseConfig,
    LoggingConfig,
    TemporalConfig,
    EmailConfig,
    SmsConfig,
    WhatsAppConfig,
    PushConfig,
    ChatConfig,
    SenderCredentialConfig,
    RenderingConfig,
    PayloadEncryptionConfig,
    HousekeepingConfig,
    AudienceConfig,
    TrackingConfig,
    ProviderEventConfig,
    WebhookConfig,
    ProfileImportConfig {}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment; throws a ConfigError that lists every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HeraldConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new ConfigError(`Invalid Herald configuration:\n${lines.join('\n')}\nFix the variables above (see docs/configuration.md) and start again.`);
  }
  const e = parsed.data;
  return {
    ...httpConfig(e),
    ...databaseConfig(e),
    ...loggingConfig(e),
    ...temporalConfig(e),
    ...emailConfig(e),
    ...smsConfig(e),
    ...whatsappConfig(e),
    ...pushConfig(e),
    ...chatConfig(e),
    ...senderCredentialConfig(env, e),
    ...renderingConfig(e),
    ...payloadEncryptionConfig(e),
    ...housekeepingConfig(e),
    ...audienceConfig(e),
    ...trackingConfig(e),
    ...providerEventConfig(e),
    ...webhookConfig(e),
    ...profileImportConfig(e),
  };
}
