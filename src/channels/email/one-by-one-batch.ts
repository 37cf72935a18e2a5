import { ProviderRejectedError } from '../provider-errors';

/**
 * The batch answer of a provider without a batch endpoint or an idempotency key (SMTP, SES):
 * the whole batch refused before anything is sent. Sending its messages one after the other
 * would break the all-or-nothing contract of EmailProvider.sendBatch: once some were accepted,
 * a failure could only be answered by an error that makes the caller repeat the accepted ones
 * too, as second copies. Refused whole, the batch goes message by message in the caller
 * (activities/audience-run.ts sends each through the send activity's path), where each accepted
 * message is recorded by itself and a retry repeats only those not recorded.
 */
export async function refuseBatch(provider: string, messages: readonly unknown[]): Promise<{ messageIds: string[] }> {
  if (messages.length === 0) return { messageIds: [] };
  throw new ProviderRejectedError(`${provider} has no batch endpoint: the ${messages.length} message(s) of this batch go one by one`);
}
