import { SendEmailCommand, SESv2Client, type MessageHeader } from '@aws-sdk/client-sesv2';
import { isRetryableStatus, ProviderUnavailableError, providerError, type ProviderRejectedError } from '../provider-errors';
import type { EmailMessage, EmailProvider } from './email-provider';
import { withIdempotencyHeader } from './idempotency-header';
import { refuseBatch } from './one-by-one-batch';

/** Which SES account and region sends, from a channel configuration's settings with its keys read. */
export interface SesAccount {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  configurationSet?: string;
  /** Another endpoint than the region's (a VPC endpoint, a test's fake). */
  endpoint?: string;
}

/**
 * SES's error names that may succeed later (throttled, over the sending quota, sending paused or
 * the account on hold): a later attempt, or the next configuration of a failover, can take the
 * message. Every other named error (MessageRejected, MailFromDomainNotVerifiedException,
 * BadRequestException, NotFoundException) refuses it for good.
 */
const RETRYABLE_NAMES = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'SendingPausedException',
  'AccountSuspendedException',
  'ThrottlingException',
  'InternalFailure',
  'ServiceUnavailable',
]);

/**
 * Email through Amazon SES v2 (`POST /v2/email/outbound-emails`, the official SDK). The SDK does
 * not retry (maxAttempts 1): Herald's own retries follow Retry-After and the activity's backoff.
 *
 * SES has no idempotency key: a message SES accepted but whose answer was lost is sent again by
 * the retry. Both copies carry the same `X-Herald-Idempotency-Key` (SES sets its own Message-ID),
 * so a receiver can tell them apart from two messages (docs/channels.md, Amazon SES).
 */
export class SesEmailProvider implements EmailProvider {
  readonly name = 'ses';
  private readonly client: SESv2Client;
  private readonly configurationSet: string | undefined;

  constructor(
    account: SesAccount,
    /** A hung call is abandoned and retried long before the activity times out. */
    private readonly timeoutMs: number,
  ) {
    this.configurationSet = account.configurationSet;
    this.client = new SESv2Client({
      region: account.region,
      credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
      ...(account.endpoint !== undefined && { endpoint: account.endpoint }),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    });
  }

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    const headers: MessageHeader[] = Object.entries(withIdempotencyHeader(message.headers, message.idempotencyKey)).map(([Name, Value]) => ({ Name, Value }));
    const replyTo = message.replyTo === undefined ? undefined : [message.replyTo].flat();
    const command = new SendEmailCommand({
      FromEmailAddress: message.from,
      Destination: { ToAddresses: [message.to] },
      ...(replyTo !== undefined && { ReplyToAddresses: replyTo }),
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: {
            Html: { Data: message.html, Charset: 'UTF-8' },
            ...(message.text !== undefined && { Text: { Data: message.text, Charset: 'UTF-8' } }),
          },
          Headers: headers,
        },
      },
      ...(this.configurationSet !== undefined && { ConfigurationSetName: this.configurationSet }),
      EmailTags: [
        { Name: 'campaign_id', Value: tagValue(message.campaignId) },
        { Name: 'execution_id', Value: tagValue(message.executionId) },
      ],
    });
    const answer = await this.client.send(command, { abortSignal: AbortSignal.timeout(this.timeoutMs) }).catch((error: unknown) => {
      throw sesError(error as SesFailure);
    });
    // A success without an id may not have been taken: retried, like any provider's answer without what it promises.
    if (!answer.MessageId) throw new ProviderUnavailableError('SES answered without a MessageId');
    return { messageId: answer.MessageId };
  }

  /** SES v2 has no batch of distinct messages, and no key to make a partly sent one safe to repeat: see refuseBatch. */
  sendBatch(messages: EmailMessage[], _batchIdempotencyKey: string): Promise<{ messageIds: string[] }> {
    return refuseBatch('SES', messages);
  }
}

/** A tag value SES accepts (letters, digits, _ and -, at most 256): ids are ULIDs, anything else is made to fit rather than refused. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

/** What the SDK throws: a service error carries the answer's status and headers, a network error neither. */
interface SesFailure {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * SES's failure as the error Herald acts on. The error's name is the most precise signal; the
 * status decides otherwise (429, 408 and 5xx later, other 4xx never); no status at all means no
 * answer (refused, reset, timed out), retried.
 */
export function sesError(error: SesFailure): ProviderUnavailableError | ProviderRejectedError {
  const status = error.$metadata?.httpStatusCode;
  const name = error.name ?? 'Error';
  const retryable = RETRYABLE_NAMES.has(name) || status === undefined || status === 408 || isRetryableStatus(status);
  const detail = status === undefined ? `SES unreachable: ${error.message ?? name}` : `SES ${status} ${name}: ${error.message ?? 'no detail'}`;
  return providerError(retryable, detail, error.$response?.headers?.['retry-after']);
}
