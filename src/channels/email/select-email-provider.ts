import type { HeraldConfig } from '../../config/env';
import type { OutboxRepository } from '../../repositories/outbox';
import type { EmailProvider } from './email-provider';
import { OutboxEmailProvider } from './outbox-provider';
import { ResendEmailProvider } from './resend-provider';

/** Resend when RESEND_API_KEY is set; otherwise the built-in outbox. */
export function selectEmailProvider(config: HeraldConfig['email'], outbox: OutboxRepository): EmailProvider {
  return config.resendApiKey ? new ResendEmailProvider(config.resendApiKey, config.resendBaseUrl, config.providerTimeoutMs) : new OutboxEmailProvider(outbox);
}
