import { z } from 'zod';
import { flag, wholeNumber } from './zod-helpers';

/**
 * Feedback webhooks out: private targets (loopback, RFC 1918, link-local, ULA) only for tests and
 * closed networks; the retry pace and request timeout; disabling an endpoint after N failures.
 */
export const webhookVariables = z.object({
  HERALD_WEBHOOKS_ALLOW_PRIVATE: flag,
  HERALD_WEBHOOK_DISABLE_AFTER_FAILURES: wholeNumber(
    'HERALD_WEBHOOK_DISABLE_AFTER_FAILURES',
    0,
    0,
    1_000_000,
    'consecutive failed requests (0: only after 24 hours of failures)',
  ),
  HERALD_WEBHOOK_RETRY_INITIAL_MS: wholeNumber('HERALD_WEBHOOK_RETRY_INITIAL_MS', 5_000, 100, 600_000, 'milliseconds'),
  HERALD_WEBHOOK_TIMEOUT_MS: wholeNumber('HERALD_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000, 'milliseconds'),
  HERALD_WEBHOOK_POLL_MS: wholeNumber('HERALD_WEBHOOK_POLL_MS', 1_000, 100, 60_000, 'milliseconds'),
});

export type WebhookVariables = z.infer<typeof webhookVariables>;

export interface WebhookConfig {
  /** Feedback webhooks out (src/services/webhooks.ts, workflows/webhook-dispatcher.ts). */
  webhooks: { allowPrivate: boolean; disableAfterFailures: number; retryInitialMs: number; timeoutMs: number; pollMs: number };
}

export function webhookConfig(e: WebhookVariables): WebhookConfig {
  return {
    webhooks: {
      allowPrivate: e.HERALD_WEBHOOKS_ALLOW_PRIVATE,
      disableAfterFailures: e.HERALD_WEBHOOK_DISABLE_AFTER_FAILURES,
      retryInitialMs: e.HERALD_WEBHOOK_RETRY_INITIAL_MS,
      timeoutMs: e.HERALD_WEBHOOK_TIMEOUT_MS,
      pollMs: e.HERALD_WEBHOOK_POLL_MS,
    },
  };
}
