// `npm run bench:report`: a campaign report over 1,000,000 delivery records (× BENCH_SCALE), on
// SQLite and PostgreSQL (BENCH_DATABASE, default "sqlite,postgres").
// For each database: a fresh Herald database (SQLite file in a temporary directory; PostgreSQL: a
// throwaway server, test/support/postgres-server.ts), the real HTTP API on loopback (no worker:
// reports never touch Temporal), one campaign made through the API, then 1,000 executions of
// 1,000 deliveries written straight into the database over the last 7 days (90 % sent, 6 %
// excluded, 4 % failed; provider feedback on the sent ones; opens, clicks on 3 tracked links and
// unsubscribes as delivery_events). Then, over HTTP:
//   cold         the first GET /v1/campaigns/{id}/report: it folds all of it into the rollups;
//   warm         GET …/report again (nothing to fold), BENCH_REPORT_CALLS times: median, p95, max;
//   live         GET …/report/live, as many times;
//   incremental  10,000 deliveries get feedback and 5,000 events arrive, then one GET …/report
//                (the fold-in of what changed since the last report, then the read).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { loadConfig } from '../src/config/env';
import { openMigratedDatabase, type HeraldDb } from '../src/db/database';
import { serveApi } from '../src/entry/serve-api';
import { createTestDatabase, startPostgresServer } from '../test/support/postgres-server';
import { emailCampaign } from '../test/support/campaigns';
import { fmt, summarize } from './stats';

const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const EXECUTIONS = Math.max(1, Math.round(1000 * SCALE));
const PER_EXECUTION = 1000;
const CALLS = Number(process.env.BENCH_REPORT_CALLS ?? '20');
const DATABASES = (process.env.BENCH_DATABASE || 'sqlite,postgres').split(',').map((d) => d.trim()) as ('sqlite' | 'postgres')[];
const KEY = `bench-${randomUUID()}`;
const DAY = 86_400_000;
const DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'hotmail.com',
  'icloud.com',
  'gmx.de',
  'orange.fr',
  'example.com',
  'example.org',
  'proton.me',
  ...Array.from({ length: 40 }, (_, i) => `company${i}.example`),
];
const LINKS = ['https://example.com/offer', 'https://example.com/more', 'https://example.com/unsubscribe-page'];

/** A seeded generator, so both databases get the same records. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

async function insertChunks<T>(db: HeraldDb, table: 'deliveries' | 'delivery_events' | 'tracked_links' | 'executions', rows: T[], perStatement: number) {
  for (let i = 0; i < rows.length; i += perStatement)
    await db
      .insertInto(table)
      .values(rows.slice(i, i + perStatement) as never)
      .execute();
}

async function generate(db: HeraldDb, campaignId: string, now: number): Promise<{ deliveries: number; events: number }> {
  const rnd = random(42);
  const iso = (ms: number) => new Date(ms).toISOString();
  let events = 0;
  for (let e = 0; e < EXECUTIONS; e++) {
    const executionId = `bench-exec-${e}`;
    // Executions spread over the last 7 days; each one's sends within a few minutes.
    const start = now - 7 * DAY + Math.floor((e / EXECUTIONS) * 7 * DAY);
    const deliveries: Record<string, unknown>[] = [];
    const eventRows: Record<string, unknown>[] = [];
    const links: Record<string, unknown>[] = [];
    for (let p = 0; p < PER_EXECUTION; p++) {
      const r = rnd();
      const updatedAt = start + Math.floor(rnd() * 5 * 60_000);
      const status = r < 0.9 ? 'sent' : r < 0.96 ? 'excluded' : 'failed';
      const reason =
        status === 'excluded'
          ? (['no-consent', 'suppressed', 'capped'] as const)[Math.floor(rnd() * 3)]
          : status === 'failed'
            ? 'provider-rejected: mailbox unavailable'
            : null;
      const domain = DOMAINS[Math.floor(rnd() ** 2 * DOMAINS.length)];
      const f = rnd();
      const feedback = status !== 'sent' ? null : f < 0.85 ? 'delivered' : f < 0.88 ? 'bounced' : f < 0.882 ? 'complained' : f < 0.892 ? 'delayed' : null;
      const feedbackAt = feedback ? updatedAt + Math.floor(rnd() * 60_000) : null;
      deliveries.push({
        execution_id: executionId,
        user_id: `user-${e}-${p}`,
        position: p,
        namespace: 'email',
        channel: 'email',
        status,
        reason,
        address: `user-${e}-${p}@${domain}`,
        message_id: status === 'sent' ? `msg-${e}-${p}` : null,
        updated_at: iso(updatedAt),
        context: null,
        channel_data: null,
        feedback,
        bounce_type: feedback === 'bounced' ? (rnd() < 0.66 ? 'hard' : 'soft') : null,
        feedback_at: feedbackAt === null ? null : iso(feedbackAt),
      });
      if (feedback !== 'delivered' && feedback !== 'complained') continue;
      if (rnd() < 0.3) {
        const opens = 1 + Math.floor(rnd() * 2);
        for (let o = 0; o < opens; o++)
          eventRows.push({
            execution_id: executionId,
            position: p,
            type: 'opened',
            link_index: null,
            occurred_at: iso(feedbackAt! + Math.floor(rnd() * DAY)),
            user_agent: null,
          });
        if (rnd() < 0.3) {
          for (let l = 0; l < LINKS.length; l++) links.push({ execution_id: executionId, position: p, link_index: l, url: LINKS[l] });
          const clicks = 1 + Math.floor(rnd() * 2);
          for (let c = 0; c < clicks; c++)
            eventRows.push({
              execution_id: executionId,
              position: p,
              type: 'clicked',
              link_index: Math.floor(rnd() * LINKS.length),
              occurred_at: iso(feedbackAt! + Math.floor(rnd() * DAY)),
              user_agent: null,
            });
        }
      }
      if (rnd() < 0.003)
        eventRows.push({
          execution_id: executionId,
          position: p,
          type: 'unsubscribed',
          link_index: null,
          occurred_at: iso(feedbackAt! + 3_600_000),
          user_agent: null,
        });
    }
    events += eventRows.length;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('executions')
        .values({
          id: executionId,
          request_id: executionId,
          request_hash: 'bench',
          campaign_id: campaignId,
          campaign_version: 1,
          workflow_id: `wf-${executionId}`,
          status: 'completed',
          failure_reason: null,
          created_at: iso(start),
          completed_at: iso(start + 300_000),
          workflow_checked_at: null,
          context: null,
          started_by_key_id: null,
          details_purged_at: null,
        })
        .execute();
      await insertChunks(trx, 'deliveries', deliveries, 2000);
      await insertChunks(trx, 'delivery_events', eventRows, 4000);
      await insertChunks(trx, 'tracked_links', links, 1000);
    });
  }
  return { deliveries: EXECUTIONS * PER_EXECUTION, events };
}

async function timed(url: string): Promise<{ ms: number; body: any }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
  const body = await res.json();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
}

async function benchOne(database: 'sqlite' | 'postgres') {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-report-'));
  const postgres = database === 'postgres' ? await startPostgresServer() : undefined;
  const pgDatabase = postgres ? await createTestDatabase(postgres.adminUrl) : undefined;
  const config = loadConfig({ HERALD_DATA_DIR: dataDir, HERALD_API_KEYS: KEY, PORT: '1', ...(pgDatabase && { DATABASE_URL: pgDatabase.url }) });
  config.http.port = 0;
  const db = await openMigratedDatabase(config.database);
  // Reports never call Temporal; a lazy client that never connects stands in for it.
  const server = await serveApi(config, db, new Client(), () => {});
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const created = await fetch(`${base}/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(emailCampaign({ name: 'Report bench' })),
    });
    const campaignId = ((await created.json()) as { id: string }).id;
    const now = Date.now();
    await db
      .updateTable('campaigns')
      .set({ created_at: new Date(now - 8 * DAY).toISOString() })
      .where('id', '=', campaignId)
      .execute();
    const genStart = performance.now();
    const generated = await generate(db, campaignId, now);
    const generateSeconds = (performance.now() - genStart) / 1000;
    console.log(
      `[${database}] generated ${generated.deliveries.toLocaleString('en')} deliveries and ${generated.events.toLocaleString('en')} events in ${fmt(generateSeconds)} s`,
    );

    const url = `${base}/v1/campaigns/${campaignId}/report`;
    const cold = await timed(url);
    console.log(
      `[${database}] cold (first fold-in of everything): ${fmt(cold.ms, 0)} ms; targeted ${cold.body.totals.targeted}, sent ${cold.body.totals.sent}, opens ${cold.body.totals.opens.total}`,
    );
    if (cold.body.totals.targeted !== generated.deliveries)
      throw new Error(`report counted ${cold.body.totals.targeted} deliveries, expected ${generated.deliveries}`);
    const warm: number[] = [];
    for (let i = 0; i < CALLS; i++) warm.push((await timed(url)).ms);
    const live: number[] = [];
    for (let i = 0; i < CALLS; i++) live.push((await timed(`${url}/live`)).ms);

    // What changes between two reports: feedback on 10,000 deliveries, 5,000 new events.
    const changedAt = new Date().toISOString();
    await db
      .updateTable('deliveries')
      .set({ feedback: 'complained', feedback_at: changedAt })
      .where(
        'execution_id',
        'in',
        Array.from({ length: Math.min(10, EXECUTIONS) }, (_, i) => `bench-exec-${EXECUTIONS - 1 - i}`),
      )
      .where('status', '=', 'sent')
      .execute();
    await insertChunks(
      db,
      'delivery_events',
      Array.from({ length: 5000 }, (_, i) => ({
        execution_id: `bench-exec-${EXECUTIONS - 1}`,
        position: i % PER_EXECUTION,
        type: 'opened',
        link_index: null,
        occurred_at: changedAt,
        user_agent: null,
      })),
      1000,
    );
    const incremental = await timed(url);
    return {
      database,
      ...generated,
      generateSeconds,
      coldMs: cold.ms,
      warm: summarize(warm),
      live: summarize(live),
      incrementalMs: incremental.ms,
      rollupRows: Number(
        (
          await db
            .selectFrom('report_rollups')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.destroy();
    await pgDatabase?.drop();
    await postgres?.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results = [];
for (const database of DATABASES) results.push(await benchOne(database));
console.log('\n## Campaign report over delivery records (GET /v1/campaigns/{id}/report, over loopback HTTP)\n');
console.log(
  '| database | deliveries | events | rollup rows | cold: first report, folds everything | warm report median / p95 / max | live report median / p95 / max | report after 10k feedback + 5k events |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.database} | ${r.deliveries.toLocaleString('en')} | ${r.events.toLocaleString('en')} | ${r.rollupRows.toLocaleString('en')} | ${fmt(r.coldMs / 1000, 1)} s | ${fmt(r.warm.p50, 1)} / ${fmt(r.warm.p95, 1)} / ${fmt(r.warm.max, 1)} ms | ${fmt(r.live.p50, 1)} / ${fmt(r.live.p95, 1)} / ${fmt(r.live.max, 1)} ms | ${fmt(r.incrementalMs, 0)} ms |`,
  );
}
process.exit(0);
