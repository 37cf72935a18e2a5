import { OutboxChannelProvider, type OutboxContent } from '../outbox-channel-provider';
import type { SmsMessage, SmsProvider } from './sms-provider';

/** The development provider for SMS: the body is stored in the outbox's `text`, once per idempotency key. */
export class OutboxSmsProvider extends OutboxChannelProvider<SmsMessage> implements SmsProvider {
  protected readonly channel = 'sms';

  protected content(message: SmsMessage): OutboxContent {
    return { to: message.to, subject: null, html: null, text: message.body };
  }
}
