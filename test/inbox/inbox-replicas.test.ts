import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { freePort } from '../support/free-port';
import { requestJson, type ApiResponse } from '../support/http-json';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { apiAnswers, heraldChildEnv, ManagedProcess, startProcessStack, type ProcessStack } from '../support/process-stack';
import { startReplicaStack, type ReplicaStack } from '../support/replica-stack';
import { openStream } from './sse-stream';

const BOOT = 'inbox-replicas-boot-key-0123456789';
const SECRET = randomBytes(32).toString('base64url');
/** Every process of a deployment shares the API keys and the key subscriber tokens are signed with. */
const SHARED_ENV = { HERALD_API_KEYS: BOOT, HERALD_TRACKING_SECRET: SECRET, HERALD_RENDER_PROCESSES: '1' };

/** One API process of the deployment, as the test calls it. */
interface Api {
  baseUrl: string;
  call(method: string, path: string, body?: unknown, bearer?: string): Promise<ApiResponse>;
}

const apiAt = (baseUrl: string): Api => ({
  baseUrl,
  call: (method, path, body, bearer = BOOT) => requestJson(baseUrl, method, path, body, { authorization: `Bearer ${bearer}` }, 15_000),
});

/**
 * docs/inbox.md, "Across API replicas": the worker stores a message and the API process holding the
 * stream learns of it; a change made through one API process reaches the streams another holds; a
 * stream that reconnects to another API process with Last-Event-ID loses nothing. The same scenario
 * on the two layouts: API replicas on one PostgreSQL (NOTIFY), and two API processes on one SQLite
 * file (each polls the table, changes included).
 */
function replicaScenario(apis: () => [Api, Api]) {
  const NS = `inbox-replicas-${randomUUID().slice(0, 8)}`;
  let campaignId: string;

  async function send(via: Api, userId: string, orderId: string): Promise<void> {
    const res = await via.call('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('inbox-replicas'),
      campaignId,
      recipients: [{ userId, namespace: NS, context: { orderId } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }

  beforeAll(async () => {
    const [a] = apis();
    const created = await a.call('POST', '/v1/campaigns', {
      name: 'Order shipped',
      type: 'transactional',
      channel: 'inApp',
      content: { title: 'Order {{ context.orderId }} shipped', body: 'It arrives tomorrow.' },
      audience: { namespace: NS, createMissingProfiles: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    campaignId = created.body.id;
    expect((await a.call('POST', `/v1/campaigns/${campaignId}/activate`)).status).toBe(200);
  });

  it("a read through API B reaches A's stream; a reconnect to B with Last-Event-ID loses nothing", async () => {
    const [a, b] = apis();
    const issued = await a.call('POST', '/v1/inbox/tokens', { namespace: NS, userId: 'ada', ttlSeconds: 600 });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const token: string = issued.body.token;

    const onA = await openStream(a.baseUrl, token);
    let firstId: string;
    try {
      expect(onA.status).toBe(200);
      await onA.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 0);
      // The worker stores the message; A, which triggered nothing, hears of it.
      await send(b, 'ada', 'A-1');
      const message = await onA.next((e) => e.event === 'message', 30_000);
      firstId = JSON.parse(message.data).id;
      expect(JSON.parse(message.data)).toMatchObject({ campaignId, title: 'Order A-1 shipped', readAt: null });
      await onA.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 1);

      // Read through B: A's stream gets the new count.
      const read = await b.call('PATCH', `/v1/inbox/messages/${firstId}`, { read: true }, token);
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      await onA.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 0 && onA.events.indexOf(e) > onA.events.indexOf(message), 15_000);
    } finally {
      onA.close();
    }

    // Away from every stream: two messages arrive. Reconnecting to B replays both, oldest first, then goes on live.
    await send(a, 'ada', 'A-2');
    await send(a, 'ada', 'A-3');
    await expect.poll(async () => (await b.call('GET', '/v1/inbox/messages', undefined, token)).body.items?.length, { timeout: 30_000, interval: 200 }).toBe(3);
    const onB = await openStream(b.baseUrl, token, firstId);
    try {
      expect(onB.status).toBe(200);
      await onB.next((e) => e.event === 'message' && JSON.parse(e.data).title === 'Order A-3 shipped');
      await send(a, 'ada', 'A-4');
      await onB.next((e) => e.event === 'message' && JSON.parse(e.data).title === 'Order A-4 shipped', 30_000);
      const titles = onB.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).title);
      expect(titles).toEqual(['Order A-2 shipped', 'Order A-3 shipped', 'Order A-4 shipped']);
      await onB.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 3);
    } finally {
      onB.close();
    }
  });
}

describe('the inbox across two API replicas on one PostgreSQL', () => {
  let ownServer: PostgresServer | undefined;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let stack: ReplicaStack | undefined;

  beforeAll(async () => {
    // The PostgreSQL suite's server, or on the SQLite suite one of the test's own.
    ownServer = inject('postgresAdminUrl') ? undefined : await startPostgresServer();
    database = await createTestDatabase(ownServer?.adminUrl ?? inject('postgresAdminUrl'));
    stack = await startReplicaStack({
      temporalAddress: inject('temporalAddress'),
      databaseUrl: database.url,
      apis: 2,
      workers: 1,
      migrateFirst: true,
      env: SHARED_ENV,
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
    await ownServer?.teardown();
  });

  replicaScenario(() => [apiAt(stack!.apis[0]!.baseUrl), apiAt(stack!.apis[1]!.baseUrl)]);
});

// The PostgreSQL suite runs the layout above on its own server; this one is SQLite's.
describe.skipIf(Boolean(inject('postgresAdminUrl')))('the inbox across two API processes on one SQLite file', () => {
  let stack: ProcessStack | undefined;
  let second: ManagedProcess | undefined;
  let secondUrl: string;

  beforeAll(async () => {
    // The second API must read the first's payloads: one key for the whole deployment.
    const shared = { ...SHARED_ENV, HERALD_PAYLOAD_KEYS: `inbox-replicas:${randomBytes(32).toString('base64')}` };
    stack = await startProcessStack({ temporalAddress: inject('temporalAddress'), env: shared });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = new ManagedProcess({
      name: 'api-2',
      script: join(fileURLToPath(new URL('../..', import.meta.url)), 'src/entry/api.ts'),
      env: {
        ...heraldChildEnv({ dataDir: stack.dataDir, temporalAddress: inject('temporalAddress'), taskQueue: stack.taskQueue, payloadKeyId: 'inbox-replicas' }),
        ...shared,
        PORT: String(port),
      },
      readyTimeoutMs: 60_000,
      readyProbe: apiAnswers(secondUrl),
    });
    await second.start();
  }, 180_000);
  afterAll(async () => {
    await second?.stop();
    await stack?.stop();
  });

  replicaScenario(() => [apiAt(stack!.baseUrl), apiAt(secondUrl)]);
});
