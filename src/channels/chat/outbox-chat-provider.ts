import { OutboxChannelProvider, type OutboxContent } from '../outbox-channel-provider';
import type { ChatMessage, ChatProvider } from './chat-provider';

/** The development provider for chat, the channel's default: the text in the outbox's `text`, the blocks as JSON in `html`. */
export class OutboxChatProvider extends OutboxChannelProvider<ChatMessage> implements ChatProvider {
  protected readonly channel = 'chat';

  protected content(message: ChatMessage): OutboxContent {
    return { to: message.destination, subject: null, html: message.blocks ? JSON.stringify(message.blocks) : null, text: message.text };
  }
}
