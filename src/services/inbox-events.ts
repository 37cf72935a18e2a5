import pg from 'pg';
import type { DatabaseTarget, HeraldDb } from '../db/database';
import { INBOX_NOTIFY_CHANNEL, InboxRepository, type InboxAnnouncement, type InboxMessage, type InboxOwner } from '../repositories/inbox';

/** The streams one person may hold open at once (per API process): a few tabs and devices, not an unbounded fan of sockets. */
export const MAX_STREAMS_PER_PERSON = 3;
/** How often the SQLite source looks for new messages. */
export const SQLITE_POLL_MS = 500;
/**
 * How far behind its newest message the SQLite poll looks again: a message is stamped when the
 * send runs and may commit a little later than one stamped after it (another worker process).
 */
const SQLITE_POLL_OVERLAP_MS = 2_000;

/** What one open stream (GET /v1/inbox/stream) is told. */
export interface InboxListener {
  message(message: InboxMessage): void;
  unreadCount(count: number): void;
}

/** Where new messages and changes come from: started with the first stream, stopped with the last. */
interface EventSource {
  stop(): Promise<void>;
}

const personKey = ({ namespace, userId }: InboxOwner) => JSON.stringify([namespace, userId]);

/**
 * The inbox's live events in one API process: the streams open here, by person, and one source
 * of what changed. The worker stores messages (another process, perhaps another machine), so the
 * source watches the database:
 *
 * - PostgreSQL: one LISTEN connection per API process on INBOX_NOTIFY_CHANNEL; the repository
 *   NOTIFYs after each stored message and each change, and every replica hears it and fans it out
 *   to its own streams in memory.
 * - SQLite: there is no NOTIFY, and the API and the worker are separate processes on one machine
 *   (several API processes perhaps), so one timer per API process polls the table every 500 ms for
 *   messages newer than the last it saw: one cheap indexed query whatever the number of streams.
 *   Changes (read, archived) made in this process are told to its streams directly.
 */
export class InboxEvents {
  private readonly streams = new Map<string, { owner: InboxOwner; listeners: Set<InboxListener> }>();
  private source: Promise<EventSource> | undefined;
  private readonly inbox: InboxRepository;

  constructor(
    db: HeraldDb,
    private readonly target: DatabaseTarget,
  ) {
    this.inbox = new InboxRepository(db);
  }

  /** Opens a stream for the person; undefined when they hold MAX_STREAMS_PER_PERSON already. Resolves once the source is listening. */
  async subscribe(owner: InboxOwner, listener: InboxListener): Promise<(() => void) | undefined> {
    const key = personKey(owner);
    const entry = this.streams.get(key) ?? { owner, listeners: new Set<InboxListener>() };
    if (entry.listeners.size >= MAX_STREAMS_PER_PERSON) return undefined;
    entry.listeners.add(listener);
    this.streams.set(key, entry);
    this.source ??= this.start();
    const source = this.source;
    try {
      await source;
    } catch (error) {
      // Not listening (the database refused the connection): the next stream tries again.
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.streams.get(key) === entry) this.streams.delete(key);
      if (this.source === source) this.source = undefined;
      throw error;
    }
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.streams.get(key) === entry) this.streams.delete(key);
      if (this.streams.size === 0 && this.source) {
        const source = this.source;
        this.source = undefined;
        void source.then((started) => started.stop()).catch(() => undefined);
      }
    };
  }

  /** A change made in this process (read, archived): on SQLite its streams are told here; on PostgreSQL the NOTIFY tells every replica. */
  changed(owner: InboxOwner): void {
    if (this.target.dialect === 'postgres') return;
    void this.tellCount(owner).catch(() => undefined);
  }

  private start(): Promise<EventSource> {
    return this.target.dialect === 'postgres' ? this.listen(this.target.url) : Promise.resolve(this.poll());
  }

  private async listen(url: string): Promise<EventSource> {
    const client = new pg.Client({ connectionString: url });
    // A lost connection ends the streams' live part; their clients reconnect with Last-Event-ID.
    client.on('error', () => undefined);
    client.on('notification', ({ channel, payload }) => {
      if (channel !== INBOX_NOTIFY_CHANNEL || !payload) return;
      void this.announced(JSON.parse(payload) as InboxAnnouncement).catch(() => undefined);
    });
    await client.connect();
    await client.query(`LISTEN ${INBOX_NOTIFY_CHANNEL}`);
    return { stop: () => client.end() };
  }

  private poll(): EventSource {
    let since = new Date(Date.now() - SQLITE_POLL_OVERLAP_MS).toISOString();
    // Ids told already, with their creation time: the overlap reads them again.
    const told = new Map<string, string>();
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void (async () => {
        const rows = await this.inbox.createdSince(since, 1000);
        for (const row of rows) {
          if (told.has(row.id)) continue;
          told.set(row.id, row.createdAt);
          const { namespace, userId, ...message } = row;
          await this.tellMessage({ namespace, userId }, message);
        }
        const newest = rows.at(-1)?.createdAt;
        if (newest) since = new Date(Math.max(Date.parse(since), Date.parse(newest) - SQLITE_POLL_OVERLAP_MS)).toISOString();
        for (const [id, createdAt] of told) if (createdAt < since) told.delete(id);
      })()
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    }, SQLITE_POLL_MS);
    timer.unref();
    return { stop: async () => clearInterval(timer) };
  }

  private async announced(announcement: InboxAnnouncement): Promise<void> {
    const owner = { namespace: announcement.namespace, userId: announcement.userId };
    if (!this.streams.has(personKey(owner))) return;
    if (announcement.kind === 'c' || !announcement.id) return this.tellCount(owner);
    const message = await this.inbox.get(owner, announcement.id);
    if (message) await this.tellMessage(owner, message);
  }

  private async tellMessage(owner: InboxOwner, message: InboxMessage): Promise<void> {
    const entry = this.streams.get(personKey(owner));
    if (!entry) return;
    for (const listener of entry.listeners) listener.message(message);
    await this.tellCount(owner);
  }

  private async tellCount(owner: InboxOwner): Promise<void> {
    const entry = this.streams.get(personKey(owner));
    if (!entry) return;
    const count = await this.inbox.unreadCount(owner);
    for (const listener of entry.listeners) listener.unreadCount(count);
  }
}

const hubs = new WeakMap<HeraldDb, InboxEvents>();

/** The one InboxEvents of this process for a database (the API's). */
export function inboxEventsOf(db: HeraldDb, target: DatabaseTarget): InboxEvents {
  let hub = hubs.get(db);
  if (!hub) {
    hub = new InboxEvents(db, target);
    hubs.set(db, hub);
  }
  return hub;
}
