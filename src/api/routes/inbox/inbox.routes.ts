import { createRoute, z } from '@hono/zod-openapi';
import { MAX_STREAMS_PER_PERSON } from '../../../services/inbox-events';
import { problemContent } from '../../problem';
import { allowSubscribers } from '../../subscriber-access';
import { InboxChangeSchema, InboxMessageSchema, InboxPageSchema, InboxQuerySchema, InboxReadAllSchema } from './inbox.schemas';

const tags = ['Inbox'];
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } };
/** The answers of the subscriber routes: their token, the person's rate, the database. */
const subscriberResponses = {
  401: problemContent('Missing, forged, altered or expired subscriber token'),
  429: { ...problemContent('Over the per-person rate (10 calls/s), or too many wrong tokens from this address'), headers: retryAfter },
  503: { ...problemContent('The database is briefly unavailable'), headers: retryAfter },
};
const MessageParams = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JEXAMPLE0000000000000000' }),
});

export const listInboxMessages = createRoute({
  method: 'get',
  path: '/v1/inbox/messages',
  tags,
  security: allowSubscribers(),
  summary: 'My in-app messages (subscriber token)',
  description:
    'The in-app messages of the person the subscriber token names, newest first, `limit` a page (keyset cursor), with the unread count. Callable from a browser (CORS, any origin).',
  request: { query: InboxQuerySchema },
  responses: {
    200: { description: 'One page of the feed', content: { 'application/json': { schema: InboxPageSchema } } },
    400: problemContent('Invalid status, limit or cursor'),
    ...subscriberResponses,
  },
});

export const changeInboxMessage = createRoute({
  method: 'patch',
  path: '/v1/inbox/messages/{id}',
  tags,
  security: allowSubscribers(),
  summary: 'Mark one of my messages seen, read, unread, archived (subscriber token)',
  request: { params: MessageParams, body: { required: true, content: { 'application/json': { schema: InboxChangeSchema } } } },
  responses: {
    200: { description: 'The message as changed', content: { 'application/json': { schema: InboxMessageSchema } } },
    400: problemContent('Invalid change'),
    ...subscriberResponses,
    404: problemContent("No such message in this person's inbox (another person's id answers the same)"),
  },
});

export const readAllInboxMessages = createRoute({
  method: 'post',
  path: '/v1/inbox/messages/read-all',
  tags,
  security: allowSubscribers(),
  summary: 'Mark all my messages read (subscriber token)',
  responses: {
    200: { description: 'How many were unread', content: { 'application/json': { schema: InboxReadAllSchema } } },
    ...subscriberResponses,
  },
});

export const inboxStream = createRoute({
  method: 'get',
  path: '/v1/inbox/stream',
  tags,
  security: allowSubscribers(),
  summary: 'My inbox, live (Server-Sent Events; subscriber token)',
  description: `Server-Sent Events: \`message\` (an InboxMessage as JSON, its id as the event id) within a second of the send, and \`unread-count\` (\`{"unreadCount"}\`) at the start and after each change; a comment every 15 s keeps the connection open. Reconnecting with \`Last-Event-ID\` first replays the messages after that one, oldest first. At most ${MAX_STREAMS_PER_PERSON} streams per person at once (429 beyond). Browsers' EventSource sends no Authorization header: read it with fetch, or a polyfill that sets headers.`,
  request: {
    headers: z.object({ 'last-event-id': z.string().max(64).optional().openapi({ description: 'The id of the last message received' }) }),
  },
  responses: {
    200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...subscriberResponses,
    429: {
      ...problemContent(`Over the per-person rate, too many wrong tokens from this address, or ${MAX_STREAMS_PER_PERSON} streams of this person open already`),
      headers: retryAfter,
    },
  },
});
