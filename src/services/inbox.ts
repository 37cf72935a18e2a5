import { invalidRequest, notFound } from '../domain/errors';
import { InboxRepository, type InboxChange, type InboxCursor, type InboxMessage, type InboxOwner, type InboxStatus } from '../repositories/inbox';
import { inboxEventsOf } from './inbox-events';
import type { ServiceDependencies } from './service-dependencies';

/** One page of a person's feed (GET /v1/inbox/messages). */
export interface InboxPage {
  items: InboxMessage[];
  /** Where the next page starts (opaque); null on the last page. */
  nextCursor: string | null;
  unreadCount: number;
}

/** The cursor a page hands out: its last message's creation time and id, base64url JSON. */
function encodeCursor(message: InboxMessage): string {
  return Buffer.from(JSON.stringify([message.createdAt, message.id])).toString('base64url');
}

function decodeCursor(cursor: string): InboxCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // falls through to the refusal
  }
  throw invalidRequest([{ field: 'cursor', message: 'not a cursor this feed handed out' }], 'The cursor is not one this feed handed out.');
}

/** A person's feed, newest first, from the cursor on. */
export async function inboxPage(
  deps: Pick<ServiceDependencies, 'db' | 'config'>,
  owner: InboxOwner,
  query: { status: InboxStatus; limit: number; cursor?: string },
): Promise<InboxPage> {
  const inbox = new InboxRepository(deps.db);
  const { items, hasMore } = await inbox.page(owner, {
    status: query.status,
    limit: query.limit,
    ...(query.cursor !== undefined && { after: decodeCursor(query.cursor) }),
  });
  const last = items.at(-1);
  return { items, nextCursor: hasMore && last ? encodeCursor(last) : null, unreadCount: await inbox.unreadCount(owner) };
}

/** A subscriber's change to one of their messages; another person's id is not found. */
export async function changeInboxMessage(
  deps: Pick<ServiceDependencies, 'db' | 'config'>,
  owner: InboxOwner,
  id: string,
  change: InboxChange,
): Promise<InboxMessage> {
  const message = await new InboxRepository(deps.db).change(owner, id, change);
  if (!message) throw notFound(`Inbox message ${id}`);
  inboxEventsOf(deps.db, deps.config.database).changed(owner);
  return message;
}

/** Marks every message of the person read; answers the unread count after (0). */
export async function readAllInboxMessages(
  deps: Pick<ServiceDependencies, 'db' | 'config'>,
  owner: InboxOwner,
): Promise<{ updated: number; unreadCount: number }> {
  const inbox = new InboxRepository(deps.db);
  const updated = await inbox.readAll(owner);
  inboxEventsOf(deps.db, deps.config.database).changed(owner);
  return { updated, unreadCount: await inbox.unreadCount(owner) };
}
