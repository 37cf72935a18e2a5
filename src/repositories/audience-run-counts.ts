import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';

/** An audience run's deliveries counted by status, and its exclusions by reason. */
export interface AudienceRunCounts {
  pending: number;
  sent: number;
  failed: number;
  excluded: number;
  excludedByReason: Record<string, number>;
}

/**
 * Counts an audience run's deliveries with one grouped query, never by loading them. On its own
 * so that both the execution view (executions.ts) and the run's own repository (audience-runs.ts,
 * which claims and closes through executions.ts) read it without importing each other.
 */
export async function audienceRunCounts(db: Kysely<Database> | Transaction<Database>, executionId: string): Promise<AudienceRunCounts> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', 'reason', eb.fn.countAll<number>().as('n')])
    .where('execution_id', '=', executionId)
    .groupBy(['status', 'reason'])
    .execute();
  const counts: AudienceRunCounts = { pending: 0, sent: 0, failed: 0, excluded: 0, excludedByReason: {} };
  for (const row of rows) {
    const n = Number(row.n);
    counts[row.status] += n;
    if (row.status === 'excluded') counts.excludedByReason[row.reason ?? 'unknown'] = (counts.excludedByReason[row.reason ?? 'unknown'] ?? 0) + n;
  }
  return counts;
}
