import { sql, type Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import { preferIndexScans, rowIdentity, rowIdentityIn, valuesTable } from '../db/dialect';
import { REPORT_SIGNATURE_SQL, deliveriesToFoldPredicate } from '../db/migrations/0020-report-rollups';
import type { Database } from '../db/schema';
import {
  deliveryContributions,
  emailDomain,
  eventContributions,
  parseDeliverySignature,
  type Contribution,
  type Granularity,
  type RollupCount,
} from '../domain/campaign-report';

/** `2026-12-02T10:35:00.000Z`: the characters that name its 5-minute bucket, hour or day, and what completes them to an instant. */
const PREFIX_LENGTH: Record<Granularity, number> = { '5m': 16, hour: 13, day: 10 };
const BUCKET_SUFFIX: Record<Granularity, string> = { '5m': ':00.000Z', hour: ':00:00.000Z', day: 'T00:00:00.000Z' };

/** Changes folded per transaction: short enough not to hold the write lock long, big enough to catch up fast. */
const FOLD_CHUNK = 5000;
/** Bound parameters per statement, under SQLite's limit. */
const PARAMETER_CHUNK = 900;

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

interface ClaimedEvent {
  execution_id: string;
  position: number;
  type: string;
  link_index: number | null;
  occurred_at: string;
}

interface UnfoldedDelivery {
  execution_id: string;
  user_id: string;
  channel: string;
  address: string | null;
  provider: string | null;
  failed_over: number | string;
  report_signature: string | null;
  signature: string;
}

/**
 * The report rollups (migration 0020 describes the design): `foldChanges` brings them up to
 * date with the deliveries and events, `counts` reads them.
 */
export class ReportRollupRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Folds every change not yet counted, a chunk per transaction; answers how many deliveries and events it folded. */
  async foldChanges(): Promise<{ deliveries: number; events: number }> {
    const folded = { deliveries: 0, events: 0 };
    // A read first: a report with nothing new to fold takes no write lock.
    if (!(await this.db.transaction().execute((trx) => this.anythingToFold(trx)))) return folded;
    for (;;) {
      const step = await this.db.transaction().execute((trx) => this.foldChunk(trx));
      folded.deliveries += step.deliveries;
      folded.events += step.events;
      if (step.deliveries < FOLD_CHUNK && step.events < FOLD_CHUNK) return folded;
    }
  }

  private async anythingToFold(trx: Transaction<Database>): Promise<boolean> {
    await preferIndexScans(trx);
    const delivery = await sql`select 1 from deliveries where ${sql.raw(deliveriesToFoldPredicate(trx))} limit 1`.execute(trx);
    if (delivery.rows.length > 0) return true;
    const event = await sql`select 1 from delivery_events where report_folded is null limit 1`.execute(trx);
    return event.rows.length > 0;
  }

  private async foldChunk(trx: Transaction<Database>): Promise<{ deliveries: number; events: number }> {
    // First a write: it takes SQLite's write lock (so nothing changes under this fold) and
    // PostgreSQL's row lock on report_folds (so two folds never count a change twice).
    const { seq } = await trx
      .updateTable('report_folds')
      .set((eb) => ({ seq: eb('seq', '+', 1), folded_at: new Date().toISOString() }))
      .where('id', '=', 1)
      .returning('seq')
      .executeTakeFirstOrThrow();
    // The unfolded rows are found through partial indexes whose predicate PostgreSQL cannot estimate.
    await preferIndexScans(trx);
    const contributions = new Map<string, Contribution & { campaignId: string }>();
    const count = (campaignId: string, c: Contribution) => {
      const id = `${campaignId}\u0000${c.metric}\u0000${c.key}\u0000${c.bucket}`;
      const existing = contributions.get(id);
      if (existing) existing.delta += c.delta;
      else contributions.set(id, { ...c, campaignId });
    };
    const events = await this.foldEvents(trx, seq, count);
    const deliveries = await this.foldDeliveries(trx, count);
    const rows = [...contributions.values()].filter((c) => c.delta !== 0);
    for (const part of chunks(rows, Math.floor(PARAMETER_CHUNK / 5))) {
      await trx
        .insertInto('report_rollups')
        .values(part.map((c) => ({ campaign_id: c.campaignId, bucket_start: c.bucket, metric: c.metric, key: c.key, count: c.delta })))
        .onConflict((oc) => oc.columns(['campaign_id', 'bucket_start', 'metric', 'key']).doUpdateSet({ count: sql`report_rollups.count + excluded.count` }))
        .execute();
    }
    return { deliveries, events };
  }

  /** Claims up to a chunk of unfolded events (append-only rows) and counts them. */
  private async foldEvents(trx: Transaction<Database>, seq: number, count: (campaignId: string, c: Contribution) => void): Promise<number> {
    const claimed = (
      await sql<ClaimedEvent>`update delivery_events set report_folded = ${seq}
        where ${rowIdentityIn(trx, sql`select ${rowIdentity(trx)} from delivery_events where report_folded is null limit ${FOLD_CHUNK}`)}
        returning execution_id, position, type, link_index, occurred_at`.execute(trx)
    ).rows;
    if (claimed.length === 0) return 0;
    const campaignOf = await this.campaignsOf(trx, [...new Set(claimed.map((e) => e.execution_id))]);
    const counted = claimed.filter((e) => e.type === 'opened' || e.type === 'clicked');
    const deliveryKeys = [...new Map(counted.map((e) => [`${e.execution_id}\u0000${e.position}`, [e.execution_id, e.position] as const])).values()];
    // Opens and clicks folded before this one: whether an event is its delivery's first.
    const seenBefore = new Set<string>();
    const urls = new Map<string, string>();
    for (const part of chunks(deliveryKeys, Math.floor(PARAMETER_CHUNK / 2))) {
      const keys = valuesTable(
        trx,
        'k',
        ['e', 'p'],
        part.map(([e, p]) => [e, p]),
      );
      const earlier = await sql<{ execution_id: string; position: number; type: string; link_index: number | null }>`
        select distinct ev.execution_id, ev.position, ev.type, ev.link_index from ${keys}
        join delivery_events ev on ev.execution_id = k.e and ev.position = cast(k.p as integer)
        where ev.type in ('opened', 'clicked') and ev.report_folded < ${seq}`.execute(trx);
      for (const e of earlier.rows) {
        seenBefore.add(`${e.execution_id}\u0000${e.position}\u0000${e.type}`);
        if (e.type === 'clicked') seenBefore.add(`${e.execution_id}\u0000${e.position}\u0000clicked\u0000${e.link_index}`);
      }
      if (counted.some((e) => e.type === 'clicked')) {
        const links = await sql<{ execution_id: string; position: number; link_index: number; url: string }>`
          select l.execution_id, l.position, l.link_index, l.url from ${keys}
          join tracked_links l on l.execution_id = k.e and l.position = cast(k.p as integer)`.execute(trx);
        for (const l of links.rows) urls.set(`${l.execution_id}\u0000${l.position}\u0000${l.link_index}`, l.url);
      }
    }
    for (const event of [...claimed].sort((a, b) => a.occurred_at.localeCompare(b.occurred_at))) {
      const campaignId = campaignOf.get(event.execution_id);
      if (!campaignId) continue;
      const delivery = `${event.execution_id}\u0000${event.position}`;
      const typeKey = `${delivery}\u0000${event.type}`;
      const linkKey = `${delivery}\u0000clicked\u0000${event.link_index}`;
      const firstOfType = !seenBefore.has(typeKey);
      const firstOnLink = event.type === 'clicked' && !seenBefore.has(linkKey);
      seenBefore.add(typeKey);
      if (event.type === 'clicked') seenBefore.add(linkKey);
      const url = event.link_index === null ? undefined : urls.get(`${delivery}\u0000${event.link_index}`);
      for (const c of eventContributions({ type: event.type, occurredAt: event.occurred_at, url, firstOfType, firstOnLink })) count(campaignId, c);
    }
    return claimed.length;
  }

  /** Takes back what up to a chunk of changed deliveries counted as last folded, counts them as they are now, and remembers that. */
  private async foldDeliveries(trx: Transaction<Database>, count: (campaignId: string, c: Contribution) => void): Promise<number> {
    const changed = (
      await sql<UnfoldedDelivery & { campaign_id: string }>`
        select d.execution_id, d.user_id, d.channel, d.address, d.provider, d.failed_over, d.report_signature, ${sql.raw(REPORT_SIGNATURE_SQL.replaceAll(/\b(status|feedback|bounce_type|updated_at|feedback_at|reason)\b/g, 'd.$1'))} as signature, x.campaign_id
        from (select * from deliveries where ${sql.raw(deliveriesToFoldPredicate(trx))} limit ${FOLD_CHUNK}) d
        join executions x on x.id = d.execution_id`.execute(trx)
    ).rows;
    if (changed.length === 0) return 0;
    for (const d of changed) {
      const domain = d.channel === 'email' ? emailDomain(d.address) : undefined;
      const via = { provider: d.provider, failedOver: Number(d.failed_over) === 1 };
      if (d.report_signature !== null)
        for (const c of deliveryContributions(parseDeliverySignature(d.report_signature), domain, -1, via)) count(d.campaign_id, c);
      for (const c of deliveryContributions(parseDeliverySignature(d.signature), domain, 1, via)) count(d.campaign_id, c);
    }
    // The signature as read, not as it is now: a change made meanwhile (PostgreSQL) stays unfolded and is folded next time.
    for (const part of chunks(changed, Math.floor(PARAMETER_CHUNK / 3))) {
      const folded = valuesTable(
        trx,
        'v',
        ['e', 'u', 'sig'],
        part.map((d) => [d.execution_id, d.user_id, d.signature]),
      );
      await sql`update deliveries set report_signature = v.sig from ${folded} where deliveries.execution_id = v.e and deliveries.user_id = v.u`.execute(trx);
    }
    return changed.length;
  }

  private async campaignsOf(trx: Transaction<Database>, executionIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const part of chunks(executionIds, PARAMETER_CHUNK)) {
      for (const row of await trx.selectFrom('executions').select(['id', 'campaign_id']).where('id', 'in', part).execute()) out.set(row.id, row.campaign_id);
    }
    return out;
  }

  /**
   * A campaign's counts whose buckets start in [from, to), summed by the database: series metrics
   * per bucket of `granularity` (the first characters of the ISO bucket start), breakdowns per key
   * from `keyedFrom` on (their buckets are hourly). A few thousand rows at most, whatever the span.
   */
  async counts(campaignId: string, range: { from: string; keyedFrom: string; to: string; granularity: Granularity }): Promise<RollupCount[]> {
    const prefix = PREFIX_LENGTH[range.granularity];
    const bucket = sql<string>`substr(bucket_start, 1, ${sql.lit(prefix)})`;
    const series = await this.db
      .selectFrom('report_rollups')
      .select(['metric', bucket.as('bucket'), sql<string | number>`sum(count)`.as('n')])
      .where('campaign_id', '=', campaignId)
      .where('bucket_start', '>=', range.from)
      .where('bucket_start', '<', range.to)
      .where('key', '=', '')
      .groupBy(['metric', bucket])
      .execute();
    const keyed = await this.db
      .selectFrom('report_rollups')
      .select(['metric', 'key', sql<string | number>`sum(count)`.as('n')])
      .where('campaign_id', '=', campaignId)
      .where('bucket_start', '>=', range.keyedFrom)
      .where('bucket_start', '<', range.to)
      .where('key', '<>', '')
      .groupBy(['metric', 'key'])
      .execute();
    return [
      ...series.map((r) => ({ bucket: r.bucket + BUCKET_SUFFIX[range.granularity], metric: r.metric, key: '', count: Number(r.n) })),
      ...keyed.map((r) => ({ bucket: range.keyedFrom, metric: r.metric, key: r.key, count: Number(r.n) })),
    ];
  }
}
