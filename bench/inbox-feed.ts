// The inbox feed at scale (issue 21): a million in-app messages in Herald's SQLite database, and
// how long one person's first page and unread count take, through the repository the API calls
// (GET /v1/inbox/messages adds the HTTP round trip and the token check on top).
//
//   npm run bench:inbox                     # 1,000,000 messages: 1,000 people × 1,000 each
//   BENCH_INBOX_MESSAGES=100000 npm run bench:inbox
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openMigratedDatabase } from '../src/db/database';
import { InboxRepository } from '../src/repositories/inbox';
import { fmt, summarize } from './stats';

const total = Number(process.env.BENCH_INBOX_MESSAGES ?? 1_000_000);
const perPerson = 1_000;
const people = Math.max(1, Math.round(total / perPerson));
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-inbox-'));
const db = await openMigratedDatabase({ dialect: 'sqlite', path: join(dir, 'herald.db') });
try {
  console.log(`inbox feed: writing ${(people * perPerson).toLocaleString('en')} messages for ${people.toLocaleString('en')} people ...`);
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
  console.log(`  written in ${fmt((performance.now() - started) / 1000)} s`);
  const inbox = new InboxRepository(db);
  const owner = { namespace: 'crm', userId: `user-${Math.floor(people / 2)}` };
  const time = async (what: string, run: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await run(); // warm the page cache and the statement cache
    const ms: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      await run();
      ms.push(performance.now() - t);
    }
    const s = summarize(ms);
    console.log(`  ${what}: p50 ${fmt(s.p50, 2)} ms, p95 ${fmt(s.p95, 2)} ms, p99 ${fmt(s.p99, 2)} ms, max ${fmt(s.max, 2)} ms`);
  };
  await time('first page, all (20)', () => inbox.page(owner, { status: 'all', limit: 20 }));
  await time('first page, unread (20)', () => inbox.page(owner, { status: 'unread', limit: 20 }));
  await time('unread count', () => inbox.unreadCount(owner));
  await time('first page and unread count (what GET /v1/inbox/messages reads)', async () => {
    await inbox.page(owner, { status: 'all', limit: 20 });
    await inbox.unreadCount(owner);
  });
} finally {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
