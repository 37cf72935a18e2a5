// The inbox stream at fan-out (issue 21): "the stream delivers 1,000 messages to 1,000 connected
// subscribers within 2 s". The real stack (the Temporal dev server persisting as `npm start`, the
// worker and the API as separate processes: test/support/process-stack.ts), on SQLite and then on
// PostgreSQL: 1,000 profiles, a subscriber token and one open stream (GET /v1/inbox/stream, a
// keep-alive node:http connection each) per person, all of them subscribed to one topic, then one
// in-app campaign fanned out with POST /v1/executions/topic. Each person's latency runs from the
// trigger's 202 to the `message` event on their stream; the total, to the last of them.
//
//   npm run bench:inbox-stream
//   BENCH_INBOX_SUBSCRIBERS=200 BENCH_INBOX_ROUNDS=1 BENCH_INBOX_DATABASES=sqlite npm run bench:inbox-stream
//   BENCH_CPU_PROF=/tmp/prof npm run bench:inbox-stream    # V8 CPU profiles of the API and the worker, per database
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, type HeraldDb } from '../src/db/database';
import { durableWalPragmas, startDevServer } from '../temporal/dev-server';
import { freePort } from '../test/support/free-port';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../test/support/postgres-server';
import { startProcessStack, type ProcessStack } from '../test/support/process-stack';
import { benchProfileImport } from './profile-import';
import { fmt, summarize, type LatencySummary } from './stats';

const subscribers = Number(process.env.BENCH_INBOX_SUBSCRIBERS ?? 1000);
const rounds = Number(process.env.BENCH_INBOX_ROUNDS ?? 3);
const databases = (process.env.BENCH_INBOX_DATABASES ?? 'sqlite,postgres').split(',').map((name) => name.trim()) as ('sqlite' | 'postgres')[];
const cpuProfDir = process.env.BENCH_CPU_PROF;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** One fan-out: each person's latency from the 202, and the last arrival. */
interface RoundResult {
  database: string;
  round: number;
  delivered: number;
  latency: LatencySummary;
  totalMs: number;
  /** From the 202 to the first and the last message stored (their created_at): the worker's part of the total. */
  firstStoredMs: number;
  storedMs: number;
}

/** A person's open stream: when each `message` event arrived (performance.now()), by message id. */
interface OpenStream {
  arrivals: Map<string, number>;
  ready: Promise<void>;
  close(): void;
}

// One socket per stream, kept alive, and no pool limit: 1,000 long-lived requests at once.
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

/** Opens a person's stream and records its `message` events; ready once the first `unread-count` came. */
function openStream(baseUrl: string, token: string, onMessage: () => void): OpenStream {
  const arrivals = new Map<string, number>();
  let response: IncomingMessage | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const req = request(`${baseUrl}/v1/inbox/stream`, { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      response = res;
      if (res.statusCode !== 200) return reject(new Error(`the stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: unread-count$/m.test(block)) resolve();
          const id = /^event: message$/m.test(block) ? /^id: (.+)$/m.exec(block)?.[1] : undefined;
          if (id && !arrivals.has(id)) {
            arrivals.set(id, at);
            onMessage();
          }
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
  return { arrivals, ready, close: () => response?.destroy() };
}

async function call<T = any>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Runs `task` over 0..count-1, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function benchOn(database: 'sqlite' | 'postgres', temporalAddress: string): Promise<RoundResult[]> {
  let postgres: PostgresServer | undefined;
  let databaseUrl: string | undefined;
  if (database === 'postgres') {
    log('starting a PostgreSQL server for Herald (test/support/postgres-server.ts) ...');
    postgres = await startPostgresServer();
    databaseUrl = (await createTestDatabase(postgres.adminUrl)).url;
  }
  const prof = (kind: string): Record<string, string> => (cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(cpuProfDir, database, kind)}` } : {});
  let stack: ProcessStack | undefined;
  let db: HeraldDb | undefined;
  const streams: OpenStream[] = [];
  try {
    log(`${database}: starting the worker and the API ...`);
    stack = await startProcessStack({
      temporalAddress,
      readyTimeoutMs: 180_000,
      env: {
        // No API keys (the open mode of the other benches); the set-up's thousands of calls stay under the rate.
        HERALD_RATE_LIMIT: '100000',
        HERALD_TRACKING_SECRET: randomBytes(32).toString('base64url'),
        HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '86400',
        HERALD_RETENTION_SWEEP_INTERVAL_SECONDS: '86400',
        ...(databaseUrl && { DATABASE_URL: databaseUrl }),
      },
      workerEnv: prof('worker'),
      apiEnv: prof('api'),
    });
    const { baseUrl } = stack;
    db = openDatabase(stack.database);
    const namespace = 'bench';
    const userId = (i: number) => `person-${i}`;

    log(`${database}: ${subscribers} profiles, tokens, streams and topic subscriptions ...`);
    await benchProfileImport({
      port: stack.apiPort,
      count: subscribers,
      prefix: 'inbox',
      line: (i) => JSON.stringify({ namespace, userId: userId(i), attributes: { firstName: `Pat${i}` } }),
    });
    const campaign = await call<{ id: string }>(baseUrl, 'POST', '/v1/campaigns', {
      name: 'Bench comment',
      type: 'transactional',
      channel: 'inApp',
      content: { title: 'New comment on {{ context.thread }}', body: 'Grace replied: {{ context.excerpt }}', actionUrl: '/threads/4711' },
      audience: { namespace },
    });
    await call(baseUrl, 'POST', `/v1/campaigns/${campaign.id}/activate`);
    await call(baseUrl, 'POST', '/v1/topics', { key: 'thread-4711', name: 'Followers of thread 4711' });
    for (let at = 0; at < subscribers; at += 1000) {
      const chunk = Array.from({ length: Math.min(1000, subscribers - at) }, (_, i) => ({ namespace, userId: userId(at + i) }));
      await call(baseUrl, 'PUT', '/v1/topics/thread-4711/subscribers', { subscribers: chunk });
    }
    const tokens: string[] = [];
    await inParallel(subscribers, 20, async (i) => {
      tokens[i] = (await call<{ token: string }>(baseUrl, 'POST', '/v1/inbox/tokens', { namespace, userId: userId(i), ttlSeconds: 3600 })).token;
    });
    let arrived = 0;
    let allArrived: () => void = () => undefined;
    const onMessage = () => {
      arrived += 1;
      if (arrived === subscribers) allArrived();
    };
    for (const token of tokens) streams.push(openStream(baseUrl, token, onMessage));
    await Promise.all(streams.map((stream) => stream.ready));
    log(`${database}: ${streams.length} streams open`);

    const results: RoundResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      arrived = 0;
      for (const stream of streams) stream.arrivals.clear();
      const everyone = new Promise<void>((resolve) => {
        allArrived = resolve;
      });
      const accepted = await call<{ executionId: string }>(baseUrl, 'POST', '/v1/executions/topic', {
        requestId: `inbox-stream-${database}-${round}`,
        campaignId: campaign.id,
        topic: 'thread-4711',
        context: { thread: 'thread 4711', excerpt: `round ${round}` },
      });
      const acceptedAt = performance.now();
      const acceptedWall = Date.now();
      const timedOut = await Promise.race([everyone.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 60_000))]);
      const execution = await stack.waitForExecution(accepted.executionId, 60_000);
      // Each round sends every person one message: what their stream received since the call.
      const latencies = streams.flatMap((stream) => [...stream.arrivals.values()].map((at) => at - acceptedAt));
      const stored = await db
        .selectFrom('inbox_messages')
        .select((eb) => [eb.fn.min('created_at').as('first'), eb.fn.max('created_at').as('last')])
        .where('execution_id', '=', accepted.executionId)
        .executeTakeFirst();
      const result: RoundResult = {
        database,
        round,
        delivered: latencies.length,
        latency: summarize(latencies),
        totalMs: Math.max(...latencies),
        firstStoredMs: stored?.first ? Date.parse(stored.first) - acceptedWall : Number.NaN,
        storedMs: stored?.last ? Date.parse(stored.last) - acceptedWall : Number.NaN,
      };
      results.push(result);
      log(
        `${database} round ${round}: ${result.delivered}/${subscribers} delivered${timedOut ? ' (timed out after 60 s)' : ''}, p50 ${fmt(result.latency.p50, 0)} ms, p99 ${fmt(result.latency.p99, 0)} ms, last ${fmt(result.totalMs, 0)} ms, stored from ${fmt(result.firstStoredMs, 0)} to ${fmt(result.storedMs, 0)} ms (execution ${execution.status}, ${JSON.stringify(execution.counts)})`,
      );
    }
    return results;
  } finally {
    for (const stream of streams) stream.close();
    await db?.destroy();
    await stack?.stop();
    await postgres?.teardown();
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-inbox-stream-'));
const temporalPort = await freePort();
log(`starting the Temporal dev server on 127.0.0.1:${temporalPort} (history in ${dataDir}, as npm start) ...`);
const temporal = await startDevServer({
  port: temporalPort,
  dbFilename: join(dataDir, 'temporal.db'),
  sqlitePragmas: durableWalPragmas,
  namespace: 'default',
  log,
});
const results: RoundResult[] = [];
try {
  for (const database of databases) results.push(...(await benchOn(database, `127.0.0.1:${temporalPort}`)));
} finally {
  agent.destroy();
  await temporal.teardown();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`| database | round | delivered | p50 ms | p95 ms | p99 ms | last ms (total) | first stored ms | last stored ms |`);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${r.database} | ${r.round} | ${r.delivered.toLocaleString('en')} / ${subscribers.toLocaleString('en')} | ${fmt(r.latency.p50, 0)} | ${fmt(r.latency.p95, 0)} | ${fmt(r.latency.p99, 0)} | ${fmt(r.totalMs, 0)} | ${fmt(r.firstStoredMs, 0)} | ${fmt(r.storedMs, 0)} |`,
  );
