import type { ChannelDispatch } from '../channel-dispatch';
import { ProviderRejectedError } from '../provider-errors';
import { CHAT_DESTINATION } from './chat-rules';

/**
 * A chat message: the text was rendered into the message's text, the blocks into its html (JSON);
 * the address is the destination, '' for the configuration's. The sender comes from the
 * configuration the failover loop tries (context.configuration), else the campaign's.
 */
export const chatDispatch: ChannelDispatch = async (message, { chatSenderFor, configuration, sendAndRecord, reject }) => {
  const { to, content } = message;
  if (to !== '' && !CHAT_DESTINATION.test(to)) return reject('not a chat destination');
  if (!chatSenderFor) return { kind: 'not-sendable', detail: `This worker has no chat sender for ${message.executionId}#${message.position}` };
  let blocks: unknown[] | undefined;
  try {
    blocks = content.html ? (JSON.parse(content.html) as unknown[]) : undefined;
  } catch {
    return reject('the rendered chat message is unreadable');
  }
  return sendAndRecord(async () => {
    const sender = await chatSenderFor(message.campaignId, configuration);
    const destination = to || sender.defaultDestination || '';
    if (destination !== '' && !CHAT_DESTINATION.test(destination)) throw new ProviderRejectedError('the default destination is not a chat destination');
    return sender.provider.send({
      destination,
      text: content.text ?? '',
      ...(blocks && { blocks }),
      idempotencyKey: message.idempotencyKey,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
  });
};
