/**
 * Retention and campaign steps, on an in-memory SQLite database: a trigger folded into a digest
 * keeps its context while the digest's run is still going (it renders it when the window ends),
 * and a purged execution loses its step rows, its digest and its cancellationKey.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { RetentionRepository } from '../../src/repositories/retention';

const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
const cutoff = new Date(Date.now() - 30 * 86_400_000).toISOString();

describe('retention of campaign steps', () => {
  let db: HeraldDb;
  beforeAll(async () => {
    db = await openMigratedDatabase({ dialect: 'sqlite', path: ':memory:' });
    await db
      .insertInto('campaigns')
      .values({
        id: 'c1',
        name: 'Comments',
        description: null,
        tags: '[]',
        type: 'transactional',
        channel: 'email',
        content: JSON.stringify({ subject: 's', html: 'h' }),
        audience: JSON.stringify({ namespace: 'crm', createMissingProfiles: true }),
        start_at: null,
        end_at: null,
        status: 'live',
        version: 1,
        created_at: longAgo,
        updated_at: longAgo,
        activated_at: longAgo,
      })
      .execute();
  });
  afterAll(() => db?.destroy());

  const execution = (id: string, status: 'running' | 'completed' | 'digested', digest: string | null) =>
    db
      .insertInto('executions')
      .values({
        id,
        request_id: `req-${id}`,
        request_hash: 'h',
        campaign_id: 'c1',
        campaign_version: 1,
        workflow_id: `execution/c1/req-${id}`,
        status,
        failure_reason: null,
        created_at: longAgo,
        completed_at: status === 'running' ? null : longAgo,
        workflow_checked_at: null,
        context: JSON.stringify({ comment: id }),
        started_by_key_id: null,
        details_purged_at: null,
        digest_execution_id: digest,
        cancellation_key: `key-${id}`,
      })
      .execute();

  it('keeps a digested trigger while its digest runs, and purges step rows, digests and keys of expired executions', async () => {
    await execution('open', 'running', 'open');
    await execution('member-of-open', 'digested', 'open');
    await execution('closed', 'completed', 'closed');
    await execution('member-of-closed', 'digested', 'closed');
    await db
      .insertInto('digests')
      .values({ execution_id: 'closed', campaign_id: 'c1', open_key: null, opened_at: longAgo, closes_at: longAgo, closed_at: longAgo })
      .execute();
    await db
      .insertInto('execution_steps')
      .values({ execution_id: 'closed', position: 0, step_id: 'gather', type: 'digest', status: 'done', reason: null, until: null, at: longAgo })
      .execute();
    await db
      .insertInto('inbound_events')
      .values({ event_id: 'old', name: 'order.paid', namespace: 'crm', user_id: 'u', matched: 1, received_at: longAgo })
      .execute();

    const retention = new RetentionRepository(db);
    const purged = await retention.purgeExecutionDetails(cutoff, 100);
    expect(purged.executions).toBe(2);
    const rows = await db.selectFrom('executions').select(['id', 'context', 'cancellation_key', 'details_purged_at']).orderBy('id').execute();
    const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
    expect(byId['member-of-open']).toMatchObject({ context: JSON.stringify({ comment: 'member-of-open' }), details_purged_at: null });
    expect(byId['member-of-closed']).toMatchObject({ context: null, cancellation_key: null, details_purged_at: expect.any(String) });
    expect(byId.closed).toMatchObject({ context: null, cancellation_key: null });
    expect(await db.selectFrom('digests').selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('execution_steps').selectAll().execute()).toEqual([]);
    expect(await retention.purgeReceivedEvents(cutoff)).toBe(1);
  });
});
