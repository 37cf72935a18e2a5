import type { NewInboxMessage } from '../../repositories/inbox';
import type { OutgoingMessage } from '../channel-dispatch';
import { inboxNamespace, type InAppExtras } from './in-app-address';
import { actionUrlProblem } from './in-app-rules';

/** A prepared in-app message as its delivery holds it: the address `namespace/userId`, and title, body and {actionUrl, data} JSON rendered into subject, text and html. */
export type PreparedInAppMessage = Omit<OutgoingMessage, 'idempotencyKey'>;

/** Why a prepared message is not stored: refused as a provider would refuse it (`provider-rejected: …`), or failed with the reason as given. */
export type InboxRefusal = { rejected: string } | { failure: string };

/**
 * The inbox row a prepared message stores, or why it is not stored: an address that is not the
 * recipient's inbox and an unreadable render are refused, an action URL that rendered to neither an
 * http(s) URL nor a path fails it (`invalid-action-url`). The one send (in-app-dispatch.ts) and an
 * audience run's block (in-app-block-sender.ts) judge alike.
 */
export function inboxMessageOf(message: PreparedInAppMessage): { message: NewInboxMessage } | InboxRefusal {
  const { to, content } = message;
  const namespace = inboxNamespace(to, message.userId);
  if (namespace === undefined) return { rejected: 'not an inbox address' };
  let extras: InAppExtras = {};
  try {
    extras = content.html ? (JSON.parse(content.html) as InAppExtras) : {};
  } catch {
    return { rejected: 'the rendered in-app message is unreadable' };
  }
  // The page opens it on a click: what is stored must be an http(s) URL or a path of the site, whatever the content held.
  const urlProblem = extras.actionUrl === undefined ? undefined : actionUrlProblem(extras.actionUrl);
  if (urlProblem) return { failure: `invalid-action-url: ${urlProblem}` };
  return {
    message: {
      namespace,
      userId: message.userId,
      campaignId: message.campaignId,
      executionId: message.executionId,
      position: message.position,
      title: content.subject ?? '',
      body: content.text ?? '',
      ...(extras.actionUrl !== undefined && { actionUrl: extras.actionUrl }),
      ...(extras.data !== undefined && { data: extras.data }),
    },
  };
}
