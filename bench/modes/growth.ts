// Sections growth-recipients and growth-profiles (`growth` is both): how Herald's rate moves as a
// trigger grows. growth-recipients: end-to-end pairs against bare Temporal at 5 and 20 recipients
// per call (the 1-recipient pair is e2e's), the section bench:compare runs of every build.
// growth-profiles: 1 existing recipient per call against 1,000 and then 100,000 stored profiles
// (seeded straight into the database), so a lookup that scans shows as a falling rate.
import type { Client } from '@temporalio/client';
import { per1k } from '../cpu';
import type { BenchSettings } from '../settings';
import type { Stack } from '../stack';
import { dbOf } from '../stack-database';
import { fmt, summarize } from '../stats';
import { heraldE2e, pair, type E2eResult, type Pair } from './end-to-end';

/** growth-recipients: the pairs at 5 and 20 recipients per call. */
export async function recipientPairs(bench: BenchSettings, stack: Stack, client: Client): Promise<Pair[]> {
  return [await pair(bench, stack, client, 5, bench.scaled(160)), await pair(bench, stack, client, 20, bench.scaled(60))];
}

export interface ProfileRow {
  stored: number;
  run: E2eResult;
}

async function seedProfiles(bench: BenchSettings, stack: Stack, from: number, to: number): Promise<void> {
  const { runId } = bench;
  const now = new Date().toISOString();
  await dbOf(stack)
    .transaction()
    .execute(async (trx) => {
      for (let k = from; k < to; k += 1000) {
        const rows = Array.from({ length: Math.min(to, k + 1000) - k }, (_, j) => ({
          namespace: 'email',
          user_id: `${runId}-pool-${k + j}@bench.test`,
          attributes: JSON.stringify({ firstName: `Pat${k + j}`, plan: (k + j) % 3 === 0 ? 'pro' : 'free' }),
          consents: '{}',
          auto_created: 0,
          created_by_execution: null,
          created_at: now,
          updated_at: now,
        }));
        await trx
          .insertInto('profiles')
          .values(rows)
          .onConflict((oc) => oc.columns(['namespace', 'user_id']).doNothing())
          .execute();
      }
    });
}

/** growth-profiles: one run of 1-recipient triggers per stored-profile count, each recipient an existing profile. */
export async function profileRows(bench: BenchSettings, stack: Stack): Promise<ProfileRow[]> {
  const { log, runId, scaled } = bench;
  await dbOf(stack).deleteFrom('profiles').execute();
  const rows: ProfileRow[] = [];
  const triggers = scaled(300);
  let stored = 0;
  for (const target of [1_000, 100_000]) {
    log(`seeding profiles up to ${target} ...`);
    await seedProfiles(bench, stack, stored, target);
    stored = target;
    log(`end to end with ${target} stored profiles: ${triggers} triggers, 1 existing recipient each ...`);
    const run = await heraldE2e(bench, stack, `prof-${target}`, 1, triggers, { kind: 'pool', prefix: `${runId}-pool`, size: target });
    log(`  ${fmt(run.perSecond)} triggers/s`);
    rows.push({ stored: target, run });
  }
  return rows;
}

/** The growth-profiles table; pg: Herald's data in PostgreSQL. */
export function profilesReport(rows: ProfileRow[], pg: boolean): string[] {
  return [
    '## Growth with stored profiles (1 existing recipient per call)',
    '',
    '| stored profiles | triggers | triggers/s | worker CPU s / 1k | API CPU s / 1k | PostgreSQL CPU s / 1k | Temporal CPU s / 1k | accept p99 ms (under load) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.stored.toLocaleString('en')} | ${r.run.triggers} | ${fmt(r.run.perSecond)} | ${per1k(r.run.cpu.worker, r.run.triggers)} | ${per1k(r.run.cpu.api, r.run.triggers)} | ${pg ? per1k(r.run.cpu.postgres, r.run.triggers) : '–'} | ${per1k(r.run.cpu.temporal, r.run.triggers)} | ${fmt(summarize(r.run.latencies).p99)} |`,
    ),
    '',
  ];
}
