import { z } from '@hono/zod-openapi';
import { INBOX_STATUSES } from '../../../repositories/inbox';

/** One in-app message as the feed, the stream and a profile's export answer it. */
export const InboxMessageSchema = z
  .object({
    id: z.string().openapi({ description: 'A ULID; the stream sends it as the event id (Last-Event-ID).' }),
    campaignId: z.string(),
    title: z.string().openapi({ description: 'Rendered: plain text, not HTML (escape it where you show it as HTML).' }),
    body: z.string().openapi({ description: 'Rendered: plain text, not HTML.' }),
    actionUrl: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
    seenAt: z.string().nullable(),
    readAt: z.string().nullable(),
    archivedAt: z.string().nullable(),
  })
  .openapi('InboxMessage');

export const InboxPageSchema = z
  .object({
    items: z.array(InboxMessageSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
    unreadCount: z.number().int().openapi({ description: 'Messages neither read nor archived, whatever the status asked.' }),
  })
  .openapi('InboxPage');

export const InboxQuerySchema = z.object({
  status: z
    .enum(INBOX_STATUSES)
    .default('all')
    .openapi({ description: '`all`: every message not archived; `unread` and `read`: of those; `archived`: the archived ones.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional().openapi({ description: 'nextCursor from the previous page' }),
});

export const InboxChangeSchema = z
  .object({
    seen: z.literal(true).optional().openapi({ description: 'Shown to the person (kept as first set).' }),
    read: z.boolean().optional().openapi({ description: 'true marks it read (and seen); false unread again.' }),
    archived: z.boolean().optional().openapi({ description: 'true archives it (out of `all`, `unread` and the unread count); false brings it back.' }),
  })
  .strict()
  .refine((change) => Object.keys(change).length > 0, { message: 'set seen, read or archived' })
  .openapi('InboxChange');

export const InboxReadAllSchema = z
  .object({
    updated: z.number().int().openapi({ description: 'Messages that were unread.' }),
    unreadCount: z.number().int(),
  })
  .openapi('InboxReadAll');
