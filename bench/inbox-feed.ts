// The inbox feed at scale (issue 21): a million in-app messages in Herald's database, SQLite and
// then PostgreSQL, and how long one person's first page and unread count take: through the
// repository the API calls, then over HTTP, GET /v1/inbox/messages with a subscriber token against
// the real API process (src/entry/api.ts) on that database, which adds the token check, the
// per-person rate limit and the round trip on loopback.
//
//   npm run bench:inbox                     # 1,000,000 messages: 1,000 people × 1,000 each, on SQLite then PostgreSQL
//   BENCH_INBOX_MESSAGES=100000 BENCH_INBOX_DATABASES=sqlite npm run bench:inbox
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openMigratedDatabase, type DatabaseTarget, type HeraldDb } from '../src/db/database';
import { InboxRepository } from '../src/repositories/inbox';
import { startDevServer } from '../temporal/dev-server';
import { freePort } from '../test/support/free-port';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../test/support/postgres-server';
import { apiAnswers, heraldChildEnv, ManagedProcess } from '../test/support/process-stack';
import { fmt, summarize } from './stats';

const total = Number(process.env.BENCH_INBOX_MESSAGES ?? 1_000_000);
const databases = (process.env.BENCH_INBOX_DATABASES ?? 'sqlite,postgres').split(',').map((name) => name.trim()) as ('sqlite' | 'postgres')[];
const perPerson = 1_000;
const people = Math.max(1, Math.round(total / perPerson));
/** The HTTP calls go round this many people: a person may make 10 calls a second, the bench makes hundreds. */
const callers = Math.min(people, 200);
const log = (line: string) => console.log(line);

async function writeMessages(db: HeraldDb): Promise<void> {
  log(`  writing ${(people * perPerson).toLocaleString('en')} messages for ${people.toLocaleString('en')} people ...`);
  const started = performance.now();
  const base = Date.parse('2026-01-01T00:00:00Z');
  for (let person = 0; person < people; person++) {
    const rows = Array.from({ length: perPerson }, (_, i) => ({
      id: `01BENCH${String(person).padStart(7, '0')}${String(i).padStart(12, '0')}`,
      namespace: 'crm',
      user_id: `user-${person}`,
      campaign_id: 'bench-campaign',
      execution_id: `bench-exec-${person}-${i}`,
      position: 0,
      title: `Message ${i}`,
      body: 'Your order shipped and arrives tomorrow.',
      action_url: 'https://example.com/orders',
      data: null,
      created_at: new Date(base + (person * perPerson + i) * 1000).toISOString(),
      seen_at: null,
      // A third read, a tenth archived: the filters have something to skip.
      read_at: i % 3 === 0 ? new Date(base).toISOString() : null,
      archived_at: i % 10 === 0 ? new Date(base).toISOString() : null,
    }));
    await db.transaction().execute(async (trx) => {
      for (let at = 0; at < rows.length; at += 500)
        await trx
          .insertInto('inbox_messages')
          .values(rows.slice(at, at + 500))
          .execute();
    });
  }
  log(`  written in ${fmt((performance.now() - started) / 1000)} s`);
}

/** 20 warm-ups (the page cache, the statement cache), then 500 timed runs; `before` each run, untimed. */
async function time(what: string, run: (i: number) => Promise<unknown>, before?: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await before?.(i);
    await run(i);
  }
  const ms: number[] = [];
  for (let i = 20; i < 520; i++) {
    await before?.(i);
    const t = performance.now();
    await run(i);
    ms.push(performance.now() - t);
  }
  const s = summarize(ms);
  log(`  ${what}: p50 ${fmt(s.p50, 2)} ms, p95 ${fmt(s.p95, 2)} ms, p99 ${fmt(s.p99, 2)} ms, max ${fmt(s.max, 2)} ms`);
}

async function throughRepository(db: HeraldDb): Promise<void> {
  const inbox = new InboxRepository(db);
  const owner = { namespace: 'crm', userId: `user-${Math.floor(people / 2)}` };
  await time('first page, all (20)', () => inbox.page(owner, { status: 'all', limit: 20 }));
  await time('first page, unread (20)', () => inbox.page(owner, { status: 'unread', limit: 20 }));
  await time('unread count', () => inbox.unreadCount(owner));
  await time('first page and unread count (what GET /v1/inbox/messages reads)', async () => {
    await inbox.page(owner, { status: 'all', limit: 20 });
    await inbox.unreadCount(owner);
  });
}

/** GET over one kept-alive connection, as a page's fetch does; the body read whole. */
function get(agent: Agent, url: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function overHttp(database: DatabaseTarget, dataDir: string, temporalAddress: string): Promise<void> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = new ManagedProcess({
    name: 'api',
    script: join(fileURLToPath(new URL('..', import.meta.url)), 'src/entry/api.ts'),
    env: {
      ...heraldChildEnv({ dataDir, temporalAddress, taskQueue: 'bench-inbox-feed', payloadKeyId: 'bench' }),
      PORT: String(port),
      HERALD_TRACKING_SECRET: randomBytes(32).toString('base64url'),
      // No API keys (the open mode of the other benches) and room for the set-up's token calls.
      HERALD_RATE_LIMIT: '100000',
      ...(database.dialect === 'postgres' && { DATABASE_URL: database.url }),
    },
    readyTimeoutMs: 120_000,
    readyProbe: apiAnswers(baseUrl),
  });
  await api.start();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const tokens: string[] = [];
    for (let i = 0; i < callers; i++) {
      const person = Math.floor(((i + 0.5) * people) / callers);
      const response = await fetch(`${baseUrl}/v1/inbox/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ namespace: 'crm', userId: `user-${person}`, ttlSeconds: 3600 }),
      });
      if (response.status !== 201) throw new Error(`POST /v1/inbox/tokens answered ${response.status}: ${await response.text()}`);
      tokens.push(((await response.json()) as { token: string }).token);
    }
    // The people in turn, each call of a person 110 ms after their last: no one passes their 10 calls a second.
    const lastCall = new Map<number, number>();
    const paced = async (i: number) => {
      const wait = (lastCall.get(i % callers) ?? 0) + 110 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      lastCall.set(i % callers, performance.now());
    };
    await time(
      `GET /v1/inbox/messages over HTTP (first page of 20 and the unread count; ${callers} people in turn)`,
      (i) => get(agent, `${baseUrl}/v1/inbox/messages`, tokens[i % callers]!),
      paced,
    );
    await time('GET /v1/inbox/messages?status=unread over HTTP', (i) => get(agent, `${baseUrl}/v1/inbox/messages?status=unread`, tokens[i % callers]!), paced);
  } finally {
    agent.destroy();
    await api.stop();
  }
}

// The API connects to Temporal when it starts, though the feed never calls it: an in-memory dev server.
const temporalPort = await freePort();
const temporal = await startDevServer({ port: temporalPort, namespace: 'default' });
try {
  for (const dialect of databases) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-inbox-'));
    let postgres: PostgresServer | undefined;
    let db: HeraldDb | undefined;
    try {
      let database: DatabaseTarget = { dialect: 'sqlite', path: join(dir, 'herald.db') };
      if (dialect === 'postgres') {
        postgres = await startPostgresServer();
        database = { dialect: 'postgres', url: (await createTestDatabase(postgres.adminUrl)).url };
      }
      log(`inbox feed on ${dialect}:`);
      db = await openMigratedDatabase(database);
      await writeMessages(db);
      // As autovacuum would soon after: the planner's statistics of the table as it now is.
      if (dialect === 'postgres') await sql`analyze inbox_messages`.execute(db);
      await throughRepository(db);
      await overHttp(database, dir, `127.0.0.1:${temporalPort}`);
    } finally {
      await db?.destroy();
      await postgres?.teardown();
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await temporal.teardown();
}
