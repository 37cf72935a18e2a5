import { Resend } from 'resend';
import { parseRetryAfter, ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import type { EmailMessage, EmailProvider } from './email-provider';

/** Resend's error names that may succeed later; every other named error is permanent. */
const RETRYABLE_NAMES = new Set(['rate_limit_exceeded', 'daily_quota_exceeded', 'concurrent_idempotent_requests', 'application_error', 'internal_server_error']);

/**
 * The SDK passes Resend's JSON error through, so the name is the most reliable signal; the
 * status decides when a gateway answered without one. An error we cannot classify is retried:
 * the idempotency key makes that safe, and dropping a message is the worse failure.
 */
function isRetryable(status: number | undefined, name: string | undefined): boolean {
  if (name && RETRYABLE_NAMES.has(name)) return true;
  if (status === 409) return false; // invalid_idempotent_request: same key, different payload
  if (status !== undefined) return status === 429 || status >= 500;
  return true;
}

export class ResendEmailProvider implements EmailProvider {
  readonly name = 'resend';
  private readonly client: Resend;

  constructor(
    apiKey: string,
    baseUrl: string | undefined,
    /** A hung provider call is abandoned and retried (same idempotency key) long before the activity times out. */
    private readonly timeoutMs: number,
  ) {
    this.client = new Resend(apiKey, baseUrl ? { baseUrl: baseUrl.replace(/\/$/, '') } : undefined);
  }

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    let response;
    try {
      response = await this.client.emails.send(
        {
          from: message.from,
          to: message.to,
          subject: message.subject,
          html: message.html,
          ...(message.text !== undefined && { text: message.text }),
          ...(message.replyTo !== undefined && { replyTo: message.replyTo }),
          ...(message.headers !== undefined && { headers: message.headers }),
          tags: [
            { name: 'campaign_id', value: message.campaignId },
            { name: 'execution_id', value: message.executionId },
          ],
        },
        { idempotencyKey: message.idempotencyKey, signal: AbortSignal.timeout(this.timeoutMs) } as { idempotencyKey: string },
      );
    } catch (error) {
      throw new ProviderUnavailableError(`Resend unreachable: ${(error as Error).message}`);
    }
    const { data, error, headers } = response;
    if (data) return { messageId: data.id };

    const status = (error as { statusCode?: number | null } | null)?.statusCode ?? undefined;
    const detail = `Resend ${status ?? 'error'} ${error?.name ?? ''}: ${error?.message ?? 'no detail'}`.trim();
    if (isRetryable(status, error?.name)) throw new ProviderUnavailableError(detail, parseRetryAfter(headers?.['retry-after']));
    throw new ProviderRejectedError(detail);
  }
}
