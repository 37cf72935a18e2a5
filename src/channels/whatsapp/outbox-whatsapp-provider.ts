import { OutboxChannelProvider, type OutboxContent } from '../outbox-channel-provider';
import type { WhatsAppMessage, WhatsAppProvider } from './whatsapp-provider';

/** The development provider for WhatsApp: the body, or the template as JSON, is stored in the outbox's `text`, once per idempotency key. */
export class OutboxWhatsAppProvider extends OutboxChannelProvider<WhatsAppMessage> implements WhatsAppProvider {
  protected readonly channel = 'whatsapp';

  protected content(message: WhatsAppMessage): OutboxContent {
    return { to: message.to, subject: null, html: null, text: message.template ? JSON.stringify({ template: message.template }) : (message.body ?? '') };
  }
}
