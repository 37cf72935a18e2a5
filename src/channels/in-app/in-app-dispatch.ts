import type { ChannelDispatch } from '../channel-dispatch';
import { inboxNamespace, type InAppExtras } from './in-app-address';

/**
 * An in-app message: no provider, the send stores it in the recipient's inbox (the address is
 * `namespace/userId`; title, body and {actionUrl, data} JSON were rendered into subject, text and
 * html). The store keeps one row per delivery, so a retried send records the same message id:
 * exactly once.
 */
export const inAppDispatch: ChannelDispatch = async (message, { inbox, sendAndRecord, reject }) => {
  const { to, content } = message;
  const namespace = inboxNamespace(to, message.userId);
  if (namespace === undefined) return reject('not an inbox address');
  if (!inbox) return { kind: 'not-sendable', detail: `This worker has no inbox for ${message.executionId}#${message.position}` };
  let extras: InAppExtras = {};
  try {
    extras = content.html ? (JSON.parse(content.html) as InAppExtras) : {};
  } catch {
    return reject('the rendered in-app message is unreadable');
  }
  return sendAndRecord(() =>
    inbox.store({
      namespace,
      userId: message.userId,
      campaignId: message.campaignId,
      executionId: message.executionId,
      position: message.position,
      title: content.subject ?? '',
      body: content.text ?? '',
      ...(extras.actionUrl !== undefined && { actionUrl: extras.actionUrl }),
      ...(extras.data !== undefined && { data: extras.data }),
    }),
  );
};
