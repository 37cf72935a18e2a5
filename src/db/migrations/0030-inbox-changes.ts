import type { Kysely, Migration } from 'kysely';

/**
 * When an inbox message last changed (issue 21, docs/inbox.md "Across API replicas"), both dialects:
 *
 * - `inbox_messages.changed_at`: set by every change a subscriber makes (seen, read, unread,
 *   archived, read-all); null until the first. On SQLite there is no NOTIFY, so each API process's
 *   stream poll reads the changes made in other API processes from it and tells its streams the new
 *   unread count (src/services/inbox-events.ts).
 * - `inbox_messages_changed` on (changed_at): that poll's range scan, one indexed query per 500 ms.
 */
export const inboxChanges: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('inbox_messages').addColumn('changed_at', 'text').execute();
    await db.schema.createIndex('inbox_messages_changed').on('inbox_messages').column('changed_at').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('inbox_messages_changed').execute();
    await db.schema.alterTable('inbox_messages').dropColumn('changed_at').execute();
  },
};
