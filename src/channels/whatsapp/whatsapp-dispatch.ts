import { E164 } from '../../domain/phone-number';
import type { ChannelDispatch } from '../channel-dispatch';
import { readStoredTemplate } from './whatsapp-template';

/**
 * A WhatsApp message: the address was normalised to E.164 at preparation; a session message's body
 * was rendered into the text, an approved template (its parameters rendered) stored as JSON in html.
 */
export const whatsappDispatch: ChannelDispatch = async (message, { whatsappSenderFor, configuration, sendAndRecord, reject }) => {
  const { to, content } = message;
  if (!E164.test(to)) return reject('not an E.164 phone number');
  if (!whatsappSenderFor) return { kind: 'not-sendable', detail: `This worker has no WhatsApp sender for ${message.executionId}#${message.position}` };
  const template = content.html ? readStoredTemplate(content.html) : undefined;
  if (content.html && !template) return reject('the rendered WhatsApp template is unreadable');
  return sendAndRecord(async () => {
    const { provider } = await whatsappSenderFor(message.campaignId, configuration);
    return provider.send({
      to,
      ...(template ? { template } : { body: content.text ?? '' }),
      idempotencyKey: message.idempotencyKey,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
  });
};
