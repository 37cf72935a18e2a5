import { Resend } from 'resend';
import { isRetryableStatus, ProviderRejectedError, ProviderUnavailableError, providerError } from '../provider-errors';
import { MAX_EMAIL_BATCH, type EmailMessage, type EmailProvider } from './email-provider';

/** Resend's error names that may succeed later; every other named error is permanent. */
const RETRYABLE_NAMES = new Set([
  'rate_limit_exceeded',
  'daily_quota_exceeded',
  'concurrent_idempotent_requests',
  'application_error',
  'internal_server_error',
]);

/**
 * The SDK passes Resend's JSON error through, so the name is the most reliable signal; the
 * status decides when a gateway answered without one. An error we cannot classify is retried:
 * the idempotency key makes that safe, and dropping a message is the worse failure.
 */
function isRetryable(status: number | undefined, name: string | undefined): boolean {
  if (name && RETRYABLE_NAMES.has(name)) return true;
  if (status === 409) return false; // invalid_idempotent_request: same key, different payload
  if (status !== undefined) return isRetryableStatus(status);
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
    const response = await this.client.emails
      .send(resendEmail(message), { idempotencyKey: message.idempotencyKey, signal: AbortSignal.timeout(this.timeoutMs) })
      .catch(unreachable);
    const { data, error, headers } = response;
    if (data) return { messageId: data.id };
    throw resendError(error, headers);
  }

  /**
   * One `POST /emails/batch` in Resend's strict validation mode (the SDK's default): every email
   * is accepted or none is. The batch key is the only deduplication Resend applies to a batch
   * (items carry no key of their own), so a retry must send the same emails under the same key:
   * Resend then answers the first call's ids, for 24 hours, and a different payload is a 409.
   */
  async sendBatch(messages: EmailMessage[], batchIdempotencyKey: string): Promise<{ messageIds: string[] }> {
    if (messages.length > MAX_EMAIL_BATCH) throw new Error(`A Resend batch holds at most ${MAX_EMAIL_BATCH} emails, not ${messages.length}`);
    if (messages.length === 0) return { messageIds: [] };
    const response = await this.client.batch
      .send(messages.map(resendEmail), { idempotencyKey: batchIdempotencyKey, signal: AbortSignal.timeout(this.timeoutMs) })
      .catch(unreachable);
    const { data, error, headers } = response;
    if (!data) throw resendError(error, headers);
    const messageIds = data.data.map((email) => email.id);
    // Strict mode answers one id per email, in order; anything else cannot be matched to recipients.
    if (messageIds.length !== messages.length)
      throw new ProviderRejectedError(`Resend answered ${messageIds.length} ids for a batch of ${messages.length} emails`);
    return { messageIds };
  }
}

/** The SDK threw before any answer (connection refused, reset, timed out): worth a retry. */
function unreachable(error: unknown): never {
  throw new ProviderUnavailableError(`Resend unreachable: ${(error as Error).message}`);
}

/** The same fields on `POST /emails` and in a batch, so a message reads the same whichever way it goes. */
function resendEmail(message: EmailMessage) {
  return {
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
  };
}

/** Resend's error answer as the error Herald acts on: retried later, or refused for good. */
function resendError(
  error: { name?: string; message?: string } | null,
  headers: Record<string, string> | null,
): ProviderUnavailableError | ProviderRejectedError {
  const status = (error as { statusCode?: number | null } | null)?.statusCode ?? undefined;
  const detail = `Resend ${status ?? 'error'} ${error?.name ?? ''}: ${error?.message ?? 'no detail'}`.trim();
  return providerError(isRetryable(status, error?.name), detail, headers?.['retry-after']);
}
