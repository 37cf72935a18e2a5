import { isDeliverableEmailAddress, singleLine } from '../../domain/header-safety';
import type { ChannelDispatch } from '../channel-dispatch';
import type { EmailSender } from './email-senders';

/**
 * An email: sent as the configuration the failover loop is trying, else the campaign's configured
 * sender when the worker resolves one, else as the default provider and sender; marketing email gets its unsubscribe headers at this moment.
 */
export const emailDispatch: ChannelDispatch = async (
  message,
  { configuration, emailProvider, emailFrom, emailSenderFor, emailHeadersFor, sendAndRecord, reject },
) => {
  const { to, content } = message;
  if (!isDeliverableEmailAddress(to)) return reject('not a deliverable email address');
  return sendAndRecord(async () => {
    const sender: EmailSender = emailSenderFor ? await emailSenderFor(message.campaignId, configuration) : { provider: emailProvider, from: emailFrom };
    const headers = emailHeadersFor ? await emailHeadersFor(message.executionId, message.position, sender.headers) : sender.headers;
    return sender.provider.send({
      from: sender.from,
      ...(sender.replyTo !== undefined && { replyTo: sender.replyTo }),
      ...(headers !== undefined && { headers }),
      to,
      subject: singleLine(content.subject ?? ''),
      html: content.html ?? '',
      ...(content.text !== null && { text: content.text }),
      idempotencyKey: message.idempotencyKey,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
  });
};
