import type { ChannelDispatch } from '../channel-dispatch';
import { inboxMessageOf } from './in-app-message';

/**
 * An in-app message: no provider, the send stores it in the recipient's inbox (the address is
 * `namespace/userId`; title, body and {actionUrl, data} JSON were rendered into subject, text and
 * html). The store keeps one row per delivery, so a retried send records the same message id:
 * exactly once. An action URL that is no http(s) URL or path fails the send (`invalid-action-url`).
 */
export const inAppDispatch: ChannelDispatch = async (message, { inbox, sendAndRecord, reject, markFailed }) => {
  const stored = inboxMessageOf(message);
  if ('rejected' in stored) return reject(stored.rejected);
  if (!inbox) return { kind: 'not-sendable', detail: `This worker has no inbox for ${message.executionId}#${message.position}` };
  if ('failure' in stored) {
    await markFailed(stored.failure);
    return { kind: 'rejected' };
  }
  return sendAndRecord(() => inbox.store(stored.message));
};
