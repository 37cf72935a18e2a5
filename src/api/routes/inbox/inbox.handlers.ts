import type { RouteHandler } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { InboxRepository } from '../../../repositories/inbox';
import { changeInboxMessage, inboxPage, readAllInboxMessages } from '../../../services/inbox';
import { inboxEventsOf, MAX_STREAMS_PER_PERSON } from '../../../services/inbox-events';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { Problem } from '../../problem';
import type {} from '../../subscriber-access'; // types c.var.subscriber
import type * as routes from './inbox.routes';

/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** The most messages a reconnecting stream replays after its Last-Event-ID. */
const REPLAY_LIMIT = 1000;

export function inboxHandlers(deps: ServiceDependencies) {
  const list: RouteHandler<typeof routes.listInboxMessages> = async (c) => c.json(await inboxPage(deps, c.var.subscriber, c.req.valid('query')), 200);

  const change: RouteHandler<typeof routes.changeInboxMessage> = async (c) =>
    c.json(await changeInboxMessage(deps, c.var.subscriber, c.req.valid('param').id, c.req.valid('json')), 200);

  const readAll: RouteHandler<typeof routes.readAllInboxMessages> = async (c) => c.json(await readAllInboxMessages(deps, c.var.subscriber), 200);

  const stream: RouteHandler<typeof routes.inboxStream> = async (c) => {
    const owner = c.var.subscriber;
    const lastEventId = c.req.valid('header')['last-event-id'];
    const inbox = new InboxRepository(deps.db);
    // Events arrive from the source at any time; one chain writes them in order.
    let writes: Promise<unknown> = Promise.resolve();
    const told = new Set<string>();
    let send: ((event: { event: string; data: string; id?: string }) => void) | undefined;
    const pending: { event: string; data: string; id?: string }[] = [];
    const emit = (event: { event: string; data: string; id?: string }) => (send ? send(event) : pending.push(event));
    const unsubscribe = await inboxEventsOf(deps.db, deps.config.database).subscribe(owner, {
      message: (message) => {
        if (told.has(message.id)) return;
        told.add(message.id);
        emit({ event: 'message', id: message.id, data: JSON.stringify(message) });
      },
      unreadCount: (count) => emit({ event: 'unread-count', data: JSON.stringify({ unreadCount: count }) }),
    });
    if (!unsubscribe)
      throw new Problem(
        429,
        'too-many-streams',
        'Too many streams',
        `This person has ${MAX_STREAMS_PER_PERSON} inbox streams open already; close one first.`,
        undefined,
        {
          'retry-after': '5',
        },
      );
    return streamSSE(
      c,
      async (sse) => {
        let heartbeat: ReturnType<typeof setInterval> | undefined;
        const closed = new Promise<void>((resolve) => sse.onAbort(resolve));
        try {
          const write = (event: { event: string; data: string; id?: string }) => {
            writes = writes.then(() => (sse.aborted || sse.closed ? undefined : sse.writeSSE(event))).catch(() => undefined);
          };
          // Missed while away: the messages after the last one received, oldest first, before the live ones.
          if (lastEventId) {
            for (const message of await inbox.after(owner, lastEventId, REPLAY_LIMIT)) {
              if (told.has(message.id)) continue;
              told.add(message.id);
              write({ event: 'message', id: message.id, data: JSON.stringify(message) });
            }
          }
          write({ event: 'unread-count', data: JSON.stringify({ unreadCount: await inbox.unreadCount(owner) }) });
          for (const event of pending.splice(0)) write(event);
          send = write;
          heartbeat = setInterval(() => {
            writes = writes.then(() => (sse.aborted || sse.closed ? undefined : sse.write(': heartbeat\n\n'))).catch(() => undefined);
          }, HEARTBEAT_MS);
          await closed;
        } finally {
          clearInterval(heartbeat);
          unsubscribe();
        }
      },
      async () => {
        unsubscribe();
      },
    ) as never;
  };

  return { list, change, readAll, stream };
}
