import { Resend } from 'resend';
import { parseRetryAfter, ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import type { EmailMessage, EmailProvider } from './email-provider';

export class ResendEmailProvider implements EmailProvider {
  readonly name = 'resend';
  private readonly client: Resend;

  constructor(apiKey: string, baseUrl?: string) {
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
          tags: [
            { name: 'campaign_id', value: message.campaignId },
            { name: 'execution_id', value: message.executionId },
          ],
        },
        { idempotencyKey: message.idempotencyKey },
      );
    } catch (error) {
      throw new ProviderUnavailableError(`Resend unreachable: ${(error as Error).message}`);
    }
    const { data, error, headers } = response;
    if (data) return { messageId: data.id };

    const status = (error as { statusCode?: number | null } | null)?.statusCode ?? undefined;
    const detail = `Resend ${status ?? 'error'} ${error?.name ?? ''}: ${error?.message ?? 'no detail'}`.trim();
    // 409 is Resend's "same idempotency key still in flight": the first request will settle, so try again.
    if (status === undefined || status === 429 || status === 409 || status >= 500) {
      throw new ProviderUnavailableError(detail, parseRetryAfter(headers?.['retry-after']));
    }
    throw new ProviderRejectedError(detail);
  }
}
