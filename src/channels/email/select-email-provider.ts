import { ConfigError, type HeraldConfig } from '../../config/env';
import type { OutboxRepository } from '../../repositories/outbox';
import type { EmailProvider } from './email-provider';
import { OutboxEmailProvider } from './outbox-provider';
import { ResendEmailProvider } from './resend-provider';

/**
 * The provider the configuration names (HERALD_EMAIL_PROVIDER, else resend when RESEND_API_KEY
 * is set, else the outbox), the same choice the API makes when it decides whether /v1/outbox
 * exists. Only the worker holds the provider's secret, so only the worker can find it missing.
 */
export function selectEmailProvider(config: HeraldConfig['email'], outbox: OutboxRepository): EmailProvider {
  if (config.provider === 'outbox') return new OutboxEmailProvider(outbox);
  if (!config.resendApiKey) {
    throw new ConfigError(
      'HERALD_EMAIL_PROVIDER=resend, but RESEND_API_KEY is unset in the worker: set RESEND_API_KEY (a Resend API key), or HERALD_EMAIL_PROVIDER=outbox to keep email in the dev outbox.',
    );
  }
  return new ResendEmailProvider(config.resendApiKey, config.resendBaseUrl, config.providerTimeoutMs);
}
