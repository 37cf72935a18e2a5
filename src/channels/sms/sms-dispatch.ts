import { E164 } from '../../domain/phone-number';
import type { ChannelDispatch } from '../channel-dispatch';

/** An SMS: the body was rendered into the message's text; the address was normalised to E.164 at preparation. */
export const smsDispatch: ChannelDispatch = async (message, { configuration, smsSenderFor, sendAndRecord, reject }) => {
  const { to, content } = message;
  if (!E164.test(to)) return reject('not an E.164 phone number');
  if (!smsSenderFor) return { kind: 'not-sendable', detail: `This worker has no SMS sender for ${message.executionId}#${message.position}` };
  return sendAndRecord(async () => {
    const sms = await smsSenderFor(message.campaignId, configuration);
    return sms.provider.send({
      to,
      body: content.text ?? '',
      ...(sms.messagingServiceSid !== undefined ? { messagingServiceSid: sms.messagingServiceSid } : { from: sms.from! }),
      idempotencyKey: message.idempotencyKey,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
  });
};
