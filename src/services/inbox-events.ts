import pg from 'pg';
import type { DatabaseTarget, HeraldDb } from '../db/database';
import {
  INBOX_NOTIFY_CHANNEL,
  InboxRepository,
  ownerKey,
  type InboxAnnouncement,
  type InboxChangeCursor,
  type InboxCursor,
  type InboxMessage,
  type InboxOwner,
} from '../repositories/inbox';

/** The streams one person may hold open at once (per API process): a few tabs and devices, not an unbounded fan of sockets. */
export const MAX_STREAMS_PER_PERSON = 3;
/** How often the SQLite source looks for new messages and changes. */
export const SQLITE_POLL_MS = 500;
/**
 * How far behind its last look the SQLite poll looks again: a message or a change is stamped when
 * it is written and may commit a little later than one stamped after it (another process).
 */
const SQLITE_POLL_OVERLAP_MS = 2_000;
/** Rows per query of the SQLite poll; it pages on until a page comes back short. */
const SQLITE_POLL_PAGE = 1000;

/** What one open stream (GET /v1/inbox/stream) is told. */
export interface InboxListener {
  message(message: InboxMessage): void;
  unreadCount(count: number): void;
}

/** Where new messages and changes come from: started with the first stream, stopped with the last. */
interface EventSource {
  stop(): Promise<void>;
}

/** New messages (oldest first) and the people whose unread count may have changed, to tell the streams open here. */
type Tidings = { messages: (InboxMessage & InboxOwner)[]; owners: Map<string, InboxOwner> };

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
 *   messages created and messages changed (changed_at) since its last look: two cheap indexed
 *   queries whatever the number of streams. Changes made in this process are told to its streams
 *   at once as well.
 *
 * Either way what arrives together is told together: the messages it names are read in one query
 * and the unread counts of the people concerned in one grouped query, so a broadcast to a thousand
 * people costs a few queries, not two per person.
 */
export class InboxEvents {
  private readonly streams = new Map<string, { owner: InboxOwner; listeners: Set<InboxListener> }>();
  private source: Promise<EventSource> | undefined;
  private readonly inbox: InboxRepository;
  /** Announcements heard (PostgreSQL) and not told yet; told in one batch once the batch before is. */
  private announcements: InboxAnnouncement[] = [];
  private telling = false;

  constructor(
    db: HeraldDb,
    private readonly target: DatabaseTarget,
  ) {
    this.inbox = new InboxRepository(db);
  }

  /** Opens a stream for the person; undefined when they hold MAX_STREAMS_PER_PERSON already. Resolves once the source is listening. */
  async subscribe(owner: InboxOwner, listener: InboxListener): Promise<(() => void) | undefined> {
    const key = ownerKey(owner);
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

  /** A change made in this process (read, archived): on SQLite its streams are told here at once; on PostgreSQL the NOTIFY tells every replica. */
  changed(owner: InboxOwner): void {
    if (this.target.dialect === 'postgres') return;
    void this.tell({ messages: [], owners: new Map([[ownerKey(owner), owner]]) }).catch(() => undefined);
  }

  private start(): Promise<EventSource> {
    return this.target.dialect === 'postgres' ? this.listen(this.target.url) : this.poll();
  }

  private async listen(url: string): Promise<EventSource> {
    const client = new pg.Client({ connectionString: url });
    // A lost connection ends the streams' live part; their clients reconnect with Last-Event-ID.
    client.on('error', () => undefined);
    client.on('notification', ({ channel, payload }) => {
      if (channel !== INBOX_NOTIFY_CHANNEL || !payload) return;
      this.announcements.push(JSON.parse(payload) as InboxAnnouncement);
      this.tellAnnouncements();
    });
    await client.connect();
    await client.query(`LISTEN ${INBOX_NOTIFY_CHANNEL}`);
    return { stop: () => client.end() };
  }

  /** Tells what was announced, one batch at a time: the notifications that arrive meanwhile make the next batch. */
  private tellAnnouncements(): void {
    if (this.telling) return;
    this.telling = true;
    setImmediate(() => {
      void (async () => {
        while (this.announcements.length > 0) {
          const batch = this.announcements.splice(0);
          // A batch the database could not answer is dropped, as a lost notification would be: the feed has the messages, and a reconnect with Last-Event-ID replays them.
          await this.announced(batch)
            .then((tidings) => this.tell(tidings))
            .catch(() => undefined);
        }
      })().finally(() => {
        this.telling = false;
        if (this.announcements.length > 0) this.tellAnnouncements();
      });
    });
  }

  private async announced(batch: InboxAnnouncement[]): Promise<Tidings> {
    const owners = new Map<string, InboxOwner>();
    const ids: string[] = [];
    for (const { kind, namespace, userId, id } of batch) {
      const key = ownerKey({ namespace, userId });
      if (!this.streams.has(key)) continue;
      owners.set(key, { namespace, userId });
      if (kind === 'm' && id) ids.push(id);
    }
    return { messages: await this.inbox.byIds(ids), owners };
  }

  /**
   * The SQLite source. Its first look tells nothing: what was committed before it started is not
   * news (a stream reads its count, and its replay after Last-Event-ID, once the source started),
   * and it only remembers what the overlap will read again.
   */
  private async poll(): Promise<EventSource> {
    let since = new Date(Date.now() - SQLITE_POLL_OVERLAP_MS).toISOString();
    // What was seen already (message ids, and id@changedAt of changes), with its stamp: the overlap reads them again.
    const seen = new Map<string, string>();
    const isNew = (key: string, stamp: string) => !seen.has(key) && seen.set(key, stamp) !== undefined;
    const look = async (): Promise<Tidings> => {
      const lookedAt = Date.now();
      const created = await pages(
        (after?: InboxCursor) => this.inbox.createdSince(since, SQLITE_POLL_PAGE, after),
        (row) => ({ createdAt: row.createdAt, id: row.id }),
      );
      const changed = await pages(
        (after?: InboxChangeCursor) => this.inbox.changedSince(since, SQLITE_POLL_PAGE, after),
        (row) => ({ changedAt: row.changedAt, id: row.id }),
      );
      const tidings: Tidings = { messages: [], owners: new Map() };
      for (const row of created) {
        const key = ownerKey(row);
        if (!isNew(row.id, row.createdAt) || !this.streams.has(key)) continue;
        tidings.messages.push(row);
        tidings.owners.set(key, { namespace: row.namespace, userId: row.userId });
      }
      for (const row of changed) {
        const key = ownerKey(row);
        if (!isNew(`${row.id}@${row.changedAt}`, row.changedAt) || !this.streams.has(key)) continue;
        tidings.owners.set(key, { namespace: row.namespace, userId: row.userId });
      }
      // Everything committed before this look was seen; look again from a little before it.
      since = new Date(lookedAt - SQLITE_POLL_OVERLAP_MS).toISOString();
      for (const [key, stamp] of seen) if (stamp < since) seen.delete(key);
      return tidings;
    };
    await look();
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void look()
        .then((tidings) => this.tell(tidings))
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    }, SQLITE_POLL_MS);
    timer.unref();
    return { stop: async () => clearInterval(timer) };
  }

  /** Each message to its person's streams, then each person's unread count (one grouped query). */
  private async tell({ messages, owners }: Tidings): Promise<void> {
    for (const { namespace, userId, ...message } of messages) {
      const entry = this.streams.get(ownerKey({ namespace, userId }));
      if (entry) for (const listener of entry.listeners) listener.message(message);
    }
    const listening = [...owners.entries()].filter(([key]) => this.streams.has(key));
    if (listening.length === 0) return;
    const counts = await this.inbox.unreadCounts(listening.map(([, owner]) => owner));
    for (const [key] of listening) {
      const entry = this.streams.get(key);
      if (entry) for (const listener of entry.listeners) listener.unreadCount(counts.get(key) ?? 0);
    }
  }
}

/** Every row of a keyset-paged query: the next page after the last row of a full one. */
async function pages<Row, Cursor>(page: (after: Cursor | undefined) => Promise<Row[]>, cursorOf: (row: Row) => Cursor): Promise<Row[]> {
  const rows: Row[] = [];
  let after: Cursor | undefined;
  for (;;) {
    const found = await page(after);
    rows.push(...found);
    if (found.length < SQLITE_POLL_PAGE) return rows;
    after = cursorOf(found.at(-1)!);
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
